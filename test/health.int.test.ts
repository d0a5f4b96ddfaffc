import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';

const HealthQuery = graphql(`
  query Health {
    health {
      version
      neo4j {
        up
        version
        database
      }
    }
  }
`);

describe('the server, end to end', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers health with the real Neo4j behind it', async () => {
    const res = await server.gql(HealthQuery);
    expect(res.errors).toBeUndefined();
    expect(res.data?.health.neo4j.up).toBe(true);
    expect(res.data?.health.neo4j.version).toMatch(/^Neo4j\/5\.26\./);
    expect(res.data?.health.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('serves /healthz and /readyz', async () => {
    const base = server.url.replace('/graphql', '');
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ status: 'ready' });
  });

  it('answers in compact JSON, not indented', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { version } }' }),
    });
    const text = await res.text();
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    expect(text).toMatch(/^\{"data":\{"health":\{"version":"/);
  });

  it('answers a malformed JSON body with a 400 and a typed error', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ health {',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      errors: { message: string; extensions: { code: string } }[];
    };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]?.message).toMatch(/^Malformed JSON body/);
  });

  it('refuses an oversized body before parsing it', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ health { version } } #${'x'.repeat(11_000_000)}` }),
    });
    expect(res.status).toBe(413);
  });

  it('names the field for an unknown field, with a typed code', async () => {
    const res = await server.gql('{ health { uptime } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toContain('uptime');
  });

  it('serves the Apollo Sandbox landing page to browsers outside production', async () => {
    const res = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/sandbox/i);
  });

  it('answers 404 with a hint for other paths', async () => {
    const res = await fetch(server.url.replace('/graphql', '/nope'));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Nothing at /nope: the API is at /graphql' });
  });
});
