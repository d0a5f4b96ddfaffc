import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { generateApiKey } from '../src/auth/keys.js';
import { Role } from '../src/domain/auth.js';
import type { LimitsConfig } from '../src/limits/index.js';
import { redisRateLimit, type RateLimit } from '../src/limits/shared-rate-limiter.js';
import { createLogger } from '../src/logger.js';
import { TOPICS } from '../subscriptions/topics.js';
import { NO_REDIS } from './utils/redis.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { lockAgent, until } from './utils/tenant-turns.js';
import { subscribe, type Subscription } from './utils/ws.js';

// "One tenant can never slow or stop another": per-key limits added up with keys (six ADMIN
// keys were six times the rate and the subscriptions), and nothing bounded a tenant's requests
// in flight, so a noisy tenant made a quiet one's p50 ten times slower.

const VIEWER = '{ viewer { keyId } }';

/** A test server whose tenant has `keys` keys, and a second tenant with a key of its own. */
async function twoTenants(limits: Partial<LimitsConfig>, keys = 1) {
  const server = await startTestServer(undefined, limits);
  const own = [server.adminKey];
  for (let i = 1; i < keys; i++) own.push(await server.keyFor(Role.ADMIN));
  const otherTenant = `test-${randomUUID()}`;
  const otherKey = generateApiKey();
  await server.services.auth.ensureAdminKey(otherTenant, otherKey, 'other tenant');
  return {
    server,
    keys: own,
    otherKey,
    /** Runs `query` as `key`: its status, Retry-After and body. */
    async ask(key: string, query = VIEWER, signal?: AbortSignal) {
      const res = await fetch(server.url, {
        signal,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as {
        data?: unknown;
        errors?: { message: string; extensions: Record<string, unknown> }[];
      };
      return { status: res.status, retryAfter: res.headers.get('retry-after'), ...body };
    },
    async stop() {
      await deleteTenant(server.graph, otherTenant);
      await server.graph.write((tx) =>
        tx.run({ cypher: 'MATCH (t:Tenant {id: $id}) DELETE t', params: { id: otherTenant } }),
      );
      await server.stop();
    },
  };
}

describe('a tenant’s rate across its keys', () => {
  let t: Awaited<ReturnType<typeof twoTenants>>;
  beforeAll(async () => {
    t = await twoTenants({ rateLimitPerMinute: 100, tenantRateLimitPerMinute: 6 }, 3);
  });
  afterAll(() => t?.stop());

  it('holds a tenant with several keys to its budget while another tenant is still answered', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await t.ask(t.keys[i % 3]!)).status);
    // Each key alone is far under its 100 a minute: the tenant's 6 is what refuses.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429]);

    const refused = await t.ask(t.keys[0]!);
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 6,
      scope: 'tenant',
    });
    expect(refused.errors?.[0]?.extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.errors?.[0]?.message).toMatch(/tenant.*TENANT_RATE_LIMIT_PER_MINUTE raises it/);

    const other = await t.ask(t.otherKey);
    expect(other.status).toBe(200);
    expect(other.errors).toBeUndefined();
  });

  it('spends the same budget over a WebSocket', async () => {
    const keyOfTenant = await t.server.keyFor(Role.VIEWER);
    const op = await subscribe(t.server, parse(VIEWER), undefined, keyOfTenant);
    try {
      const result = await op.waitForNext();
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 6 });
    } finally {
      await op.close();
    }
  });
});

const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn(NO_REDIS);

describe.skipIf(!redisUrl)('a tenant’s rate shared by two API instances through Redis', () => {
  const PER_MINUTE = 6;
  const servers: TestServer[] = [];
  const rates: RateLimit[] = [];
  beforeAll(async () => {
    const prefix = `test:${randomUUID()}:`;
    const logger = createLogger('silent');
    const tenantId = `test-${randomUUID()}`;
    for (const _ of [1, 2]) {
      const tenantRateLimit = await redisRateLimit({
        url: redisUrl!,
        perMinute: PER_MINUTE,
        logger,
        prefix,
      });
      rates.push(tenantRateLimit);
      const limits = { tenantRateLimitPerMinute: PER_MINUTE };
      servers.push(await startTestServer(tenantId, limits, undefined, {}, { tenantRateLimit }));
    }
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const rate of rates) await rate.close?.();
  });

  it('refuses a tenant past its rate however its keys and requests are spread', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const keys = [a.adminKey, await a.keyFor(Role.VIEWER)];
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE + 3; i++) {
      const server = i % 2 ? a : b;
      const auth = { authorization: `Bearer ${keys[Math.floor(i / 2) % 2]}` };
      statuses.push((await server.gql(VIEWER, undefined, auth)).status);
    }
    // Each instance alone would have allowed all of its requests.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429]);
  });
});

describe('a tenant’s requests in flight', () => {
  let t: Awaited<ReturnType<typeof twoTenants>>;
  let locker: Graph;
  let agentId: string;
  const rename = (name: string) =>
    `mutation { updateAgent(id: "${agentId}", input: { name: "${name}" }) { name } }`;
  beforeAll(async () => {
    t = await twoTenants({ tenantMaxConcurrentRequests: 2, tenantMaxQueuedRequests: 2 }, 2);
    locker = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    const created = await t.server.gql<{ createAgent: { id: string } }, never>(
      'mutation { createAgent(input: { name: "Held", role: MASTER_OPERATOR }) { id } }',
    );
    agentId = created.data!.createAgent.id;
  });
  afterAll(async () => {
    await locker?.close();
    await t?.stop();
  });

  it('lets requests past the limit wait their turn and serves them, refuses past the queue, and leaves other tenants alone', async () => {
    const { server } = t;
    const unlock = await lockAgent(locker, server.tenantId, agentId);
    let pending: Promise<{ status: number }>[] = [];
    try {
      // Two run (and wait on the lock), two wait for a slot: across both keys of the tenant.
      pending = [0, 1, 2, 3].map((i) => t.ask(t.keys[i % 2]!, rename(`Held ${i}`)));
      await until(() => server.tenantSlots.inFlight(server.tenantId) === 2, 'two requests to run');
      await until(() => server.tenantSlots.waiting(server.tenantId) === 2, 'two to wait');

      const refused = await t.ask(t.keys[1]!);
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('1');
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'concurrentRequestsPerTenant',
        max: 2,
      });
      expect(refused.errors?.[0]?.message).toMatch(/TENANT_MAX_CONCURRENT_REQUESTS raises it/);
      // A query over a WebSocket takes a turn too.
      const overSocket = await subscribe(server, parse(VIEWER), undefined, t.keys[1]!);
      const socketAnswer = await overSocket.waitForNext();
      await overSocket.close();
      expect(socketAnswer.errors?.[0]?.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'concurrentRequestsPerTenant',
      });

      // Another tenant neither waits nor is refused.
      const other = await t.ask(t.otherKey);
      expect(other.status).toBe(200);
      expect(other.errors).toBeUndefined();
    } finally {
      await unlock();
    }
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(server.tenantSlots.inFlight(server.tenantId)).toBe(0);
    const overSocket = await subscribe(server, parse(VIEWER), undefined, t.keys[1]!);
    const answer = await overSocket.waitForNext();
    await overSocket.close();
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ viewer: { keyId: expect.any(String) } });
  });
  it('gives a waiting request’s place up once its client goes away', async () => {
    const { server } = t;
    const unlock = await lockAgent(locker, server.tenantId, agentId);
    const gone = new AbortController();
    try {
      const running = [0, 1].map((i) => t.ask(t.keys[0]!, rename(`Run ${i}`)));
      await until(() => server.tenantSlots.inFlight(server.tenantId) === 2, 'two requests to run');
      const left = t.ask(t.keys[0]!, rename('Gone'), gone.signal).catch(() => 'aborted');
      await until(() => server.tenantSlots.waiting(server.tenantId) === 1, 'one to wait');
      gone.abort();
      expect(await left).toBe('aborted');
      await until(() => server.tenantSlots.waiting(server.tenantId) === 0, 'its place to go');
      await unlock();
      expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await unlock();
    }
  });
});

describe('a tenant’s wait for a turn', () => {
  let t: Awaited<ReturnType<typeof twoTenants>>;
  let locker: Graph;
  beforeAll(async () => {
    t = await twoTenants({ tenantMaxConcurrentRequests: 1, requestTimeoutMs: 1_500 });
    locker = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(async () => {
    await locker?.close();
    await t?.stop();
  });

  it('ends within the request’s own deadline with a 503', async () => {
    const created = await t.server.gql<{ createAgent: { id: string } }, never>(
      'mutation { createAgent(input: { name: "Held", role: MASTER_OPERATOR }) { id } }',
    );
    const id = created.data!.createAgent.id;
    const unlock = await lockAgent(locker, t.server.tenantId, id);
    try {
      const held = t.ask(
        t.keys[0]!,
        `mutation { updateAgent(id: "${id}", input: { name: "x" }) { name } }`,
      );
      await until(() => t.server.tenantSlots.inFlight(t.server.tenantId) === 1, 'one to run');
      const started = performance.now();
      const waited = await t.ask(t.keys[0]!);
      expect(waited.status).toBe(503);
      // Its wait gives up just before the deadline; a loaded machine may let the deadline win.
      expect(['LIMIT_EXCEEDED', 'REQUEST_TIMEOUT']).toContain(waited.errors?.[0]?.extensions.code);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect((await held).status).toBe(503); // the lock outlived its deadline too
    } finally {
      await unlock();
    }
  });
});

describe('a tenant’s live subscriptions', () => {
  let t: Awaited<ReturnType<typeof twoTenants>>;
  const WATCH = parse('subscription { agentStatusChanged { agent { id } } }');
  beforeAll(async () => {
    t = await twoTenants({ maxSubscriptionsPerTenant: 3 }, 2);
  });
  afterAll(() => t?.stop());

  it('are counted across its keys and sockets; another tenant still subscribes', async () => {
    const live = () => t.server.pubsub.subscriberCount(TOPICS.agentStatusChanged);
    const [a, b] = t.keys as [string, string];
    const subs: Subscription<unknown>[] = [];
    try {
      subs.push(await subscribe(t.server, WATCH, undefined, a));
      subs.push(await subscribe(t.server, WATCH, undefined, a));
      subs.push(await subscribe(t.server, WATCH, undefined, b));
      await until(() => live() === 3, 'three subscriptions');

      const refused = await subscribe(t.server, WATCH, undefined, b);
      subs.push(refused);
      const answer = await refused.waitForNext();
      expect(answer.errors?.[0]?.extensions).toEqual({
        code: 'LIMIT_EXCEEDED',
        limit: 'subscriptionsPerTenant',
        max: 3,
      });
      expect(answer.errors?.[0]?.message).toMatch(/TENANT_MAX_SUBSCRIPTIONS raises it/);

      subs.push(await subscribe(t.server, WATCH, undefined, t.otherKey));
      await until(() => live() === 4, 'the other tenant’s subscription');

      // Ending one of the first key's frees a place for the second key.
      await subs[0]!.close();
      await until(() => live() === 3, 'the closed subscription to end');
      subs.push(await subscribe(t.server, WATCH, undefined, b));
      await until(() => live() === 4, 'the second key’s subscription');
    } finally {
      for (const sub of subs) await sub.close();
    }
  });
});

describe('a WebSocket operation that waits for a turn', () => {
  let t: Awaited<ReturnType<typeof twoTenants>>;
  let locker: Graph;
  beforeAll(async () => {
    t = await twoTenants({ tenantMaxConcurrentRequests: 1, tenantMaxQueuedRequests: 1 });
    locker = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(async () => {
    await locker?.close();
    await t?.stop();
  });

  /**
   * Renames an agent over HTTP while a socket's rename waits behind it for the tenant's one
   * turn, which `how` ends (its place is checked free at once): the name it ends with.
   */
  async function renamedWhileWaiting(name: string, how: 'close' | 'complete') {
    const { server } = t;
    const created = await server.gql<{ createAgent: { id: string } }, never>(
      `mutation { createAgent(input: { name: "${name}", role: MASTER_OPERATOR }) { id } }`,
    );
    const id = created.data!.createAgent.id;
    const rename = (to: string) =>
      `mutation { updateAgent(id: "${id}", input: { name: "${to}" }) { name } }`;
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.keys[0]}` },
      retryAttempts: 0,
      // A lazy client closes its socket with its last operation: a `complete` would not be seen.
      lazy: false,
      onNonLazyError: () => {},
    });
    const unlock = await lockAgent(locker, server.tenantId, id);
    let held: Promise<{ status: number }> | undefined;
    try {
      held = t.ask(t.keys[0]!, rename(`${name} by HTTP`));
      await until(() => server.tenantSlots.inFlight(server.tenantId) === 1, 'one to run');
      const complete = client.subscribe(
        { query: rename(`${name} by the socket`) },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      await until(() => server.tenantSlots.waiting(server.tenantId) === 1, 'the socket’s to wait');
      if (how === 'complete') complete();
      else await client.dispose();
      // Its place in the queue is free for the tenant's next request at once.
      await until(() => server.tenantSlots.waiting(server.tenantId) === 0, 'its place to free');
    } finally {
      await unlock();
    }
    expect((await held)?.status).toBe(200);
    await until(() => server.tenantSlots.inFlight(server.tenantId) === 0, 'all to end');
    await client.dispose();
    const agent = await server.gql<{ agent: { name: string } }, never>(
      `{ agent(id: "${id}") { name } }`,
    );
    return agent.data?.agent.name;
  }

  it('gives up its place and runs nothing once its socket closes', async () => {
    expect(await renamedWhileWaiting('Closed', 'close')).toBe('Closed by HTTP');
  });

  it('gives up its place and runs nothing once the client completed it', async () => {
    expect(await renamedWhileWaiting('Completed', 'complete')).toBe('Completed by HTTP');
  });
});
