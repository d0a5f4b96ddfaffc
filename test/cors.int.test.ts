import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * CORS_ORIGINS (unset: no CORS headers, as before). A browser app on another origin, or Apollo
 * Studio's hosted Sandbox, could not call the API: no preflight was answered.
 */

const APP = 'http://app.example:3000';
const STRANGER = 'https://evil.example';

const preflight = (url: string, origin: string, method = 'POST') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('CORS', () => {
  let server: TestServer;
  let plain: TestServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer(undefined, {}, undefined, {}, { corsOrigins: [APP] });
    plain = await startTestServer();
    base = server.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => {
    await server?.stop();
    await plain?.stop();
  });

  it('answers a preflight of a listed origin for /graphql', async () => {
    const res = await preflight(server.url, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('lets a listed origin read the answer to its request', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        origin: APP,
        'content-type': 'application/json',
        authorization: `Bearer ${server.adminKey}`,
      },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    expect(await res.json()).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-expose-headers')).toBe('retry-after');
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('gives an origin not listed no CORS header, preflight or request', async () => {
    const pre = await preflight(server.url, STRANGER);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { origin: STRANGER, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { neo4j { up } } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('answers preflights of /documents, /mcp, /a2a, the card; not of /metrics', async () => {
    for (const [path, method, methods] of [
      ['/documents', 'POST', 'POST'],
      ['/mcp', 'POST', 'GET, POST, DELETE'],
      ['/a2a', 'POST', 'POST'],
      ['/.well-known/agent-card.json', 'GET', 'GET'],
    ]) {
      const res = await preflight(`${base}${path}`, APP, method);
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin'), path).toBe(APP);
      expect(res.headers.get('access-control-allow-methods'), path).toBe(methods);
    }
    const card = await fetch(`${base}/.well-known/agent-card.json`, { headers: { origin: APP } });
    expect(card.status).toBe(200);
    expect(card.headers.get('access-control-allow-origin')).toBe(APP);
    for (const path of ['/metrics', '/healthz', '/console']) {
      const res = await preflight(`${base}${path}`, APP, 'GET');
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  // A refusal the page cannot read is an opaque network error: it must carry the headers too.
  it('lets a listed origin read refusals: a bad key, a rate limit, its Retry-After', async () => {
    const limited = await startTestServer(
      undefined,
      { rateLimitPerMinute: 1 },
      undefined,
      {},
      { corsOrigins: [APP] },
    );
    try {
      const root = limited.url.replace(/\/graphql$/, '');
      const post = (path: string, key: string) =>
        fetch(`${root}${path}`, {
          method: 'POST',
          headers: {
            origin: APP,
            'content-type': 'application/json',
            authorization: `Bearer ${key}`,
          },
          body: JSON.stringify({ query: '{ viewer { role } }' }),
        });
      const bad = await post('/graphql', 'not-a-key');
      expect(bad.status).toBe(401);
      expect(bad.headers.get('access-control-allow-origin')).toBe(APP);
      await post('/graphql', limited.adminKey); // the minute's one request, if still unspent
      for (const path of ['/graphql', '/documents', '/mcp', '/a2a']) {
        const res = await post(path, limited.adminKey);
        expect(res.status, path).toBe(429);
        expect(res.headers.get('access-control-allow-origin'), path).toBe(APP);
        expect(res.headers.get('access-control-expose-headers'), path).toBe('retry-after');
        expect(Number(res.headers.get('retry-after')), path).toBeGreaterThan(0);
      }
    } finally {
      await limited.stop();
    }
  });

  it('sends no CORS header at all without CORS_ORIGINS', async () => {
    const pre = await preflight(plain.url, APP);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetch(plain.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { neo4j { up } } }' }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary') ?? '').not.toMatch(/origin/i);
  });
});
