import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SYSTEM_TENANT } from '../src/domain/auth.js';
import { startTestServer, type TestServer } from './utils/server.js';

const RATE = 50;

/** A loopback address of this test's own, so its rate bucket and audit events are its alone. */
function ownLoopback(): string {
  const byte = () => 2 + Math.floor(Math.random() * 250);
  return `127.${byte()}.${byte()}.${byte()}`;
}

/** POSTs `{ viewer { keyId } }` from `localAddress` with a bearer key. */
function postFrom(
  url: string,
  localAddress: string,
  key: string,
): Promise<{ status: number; body: { errors?: { extensions?: Record<string, unknown> }[] } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query: '{ viewer { keyId } }' }));
  });
}

/** Opens a graphql-ws socket from `localAddress`, sends connection_init, resolves the close code. */
function wsCloseCode(url: string, localAddress: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { localAddress });
    socket.on('open', () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }),
      ),
    );
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') socket.close(1000);
    });
    socket.on('close', (code) => resolve(code));
    socket.on('error', reject);
  });
}

describe('bad API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { rateLimitPerMinute: RATE });
  });
  afterAll(() => server.stop());

  it('are refused with 429 before any lookup once their address is over the rate (issue 9: 400 bad keys gave 400 × 401)', async () => {
    const address = ownLoopback();
    const statementsBefore = server.graph.statementCount;
    const started = Date.now();
    const statuses: number[] = [];
    let limited: Record<string, unknown> | undefined;
    for (let i = 0; i < 3 * RATE; i++) {
      const res = await postFrom(server.url, address, `ap_not_a_key_${i}`);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res.body.errors?.[0]?.extensions;
    }
    const elapsedMs = Date.now() - started;
    const unauthenticated = statuses.filter((s) => s === 401).length;
    const refused = statuses.filter((s) => s === 429).length;
    expect(unauthenticated + refused).toBe(statuses.length);
    // The bucket holds RATE and refills at RATE per minute while the test runs.
    const budget = RATE + Math.ceil((elapsedMs * RATE) / 60_000) + 1;
    expect(unauthenticated).toBeGreaterThanOrEqual(RATE);
    expect(unauthenticated).toBeLessThanOrEqual(budget);
    expect(refused).toBeGreaterThanOrEqual(statuses.length - budget);
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', limit: RATE });
    expect(limited?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // A 401 costs a lookup and an audit write; a 429 costs no statement at all.
    expect(server.graph.statementCount - statementsBefore).toBeLessThanOrEqual(3 * unauthenticated);

    // The same address over graphql-ws: a retryable close, not 4403 (no lookup was made). The
    // bucket refills while the requests above run (one key per 1.2 s), so a refilled token may
    // let a socket or two through first (4403, and spent); then it is 1013.
    const codes: number[] = [];
    while (codes.length < 10 && codes.at(-1) !== 1013) {
      codes.push(await wsCloseCode(server.wsUrl, address, `ap_not_a_key_ws_${codes.length}`));
    }
    expect(codes.at(-1)).toBe(1013);
    expect(codes.slice(0, -1).every((c) => c === 4403)).toBe(true);
    expect(codes.length).toBeLessThanOrEqual(3);

    // Audited as one event per address, operation (http, websocket) and minute, with the
    // attempts counted. A socket let through makes a websocket event beside the http one.
    const rows = await server.graph.read((tx) =>
      tx.run<{ operation: string; events: number; attempts: number }>({
        cypher: `
          MATCH (e:AuditEvent {tenantId: $system}) WHERE e.address = $address
          RETURN e.operation AS operation, count(e) AS events, sum(e.count) AS attempts`,
        params: { system: SYSTEM_TENANT, address },
      }),
    );
    const minutes = Math.floor(Date.now() / 60_000) - Math.floor(started / 60_000) + 1;
    const byOperation = Object.fromEntries(rows.map((r) => [r.operation, r]));
    const letThrough = codes.filter((c) => c === 4403).length;
    expect(Object.keys(byOperation).sort()).toEqual(letThrough ? ['http', 'websocket'] : ['http']);
    expect(byOperation.http!.attempts).toBe(unauthenticated);
    expect(byOperation.websocket?.attempts ?? 0).toBe(letThrough);
    for (const r of rows) {
      expect(r.events).toBeGreaterThanOrEqual(1);
      expect(r.events).toBeLessThanOrEqual(minutes);
    }
  });

  it('still close a graphql-ws socket with 4403 while the address is under the rate', async () => {
    expect(await wsCloseCode(server.wsUrl, ownLoopback(), 'ap_not_a_key')).toBe(4403);
  });

  it('do not lock out a key that authenticated recently from the same address (clients behind one NAT)', async () => {
    const address = ownLoopback();
    expect((await postFrom(server.url, address, server.adminKey)).status).toBe(200);
    let refused = 0;
    for (let i = 0; i < 2 * RATE && refused === 0; i++) {
      if ((await postFrom(server.url, address, `ap_not_a_key_nat_${i}`)).status === 429) refused++;
    }
    expect(refused).toBe(1);
    const res = await postFrom(server.url, address, server.adminKey);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });

  it('no key at all is refused with 401 as a bad one is, while health needs none', async () => {
    const post = (query: string) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
    const refused = await post('{ agents { totalCount } }');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await refused.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    const health = await post('{ health { version } }');
    expect(health.status).toBe(200);
    expect(await health.json()).not.toHaveProperty('errors');
  });

  it('do not hold back a valid key from another address', async () => {
    const res = await postFrom(server.url, ownLoopback(), server.adminKey);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });
});
