import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { redisRateLimit, type RateLimit } from '../src/limits/shared-rate-limiter.js';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { graphql } from './generated/index.js';
import { NO_REDIS } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const ResumeWatch = graphql(`
  subscription ResumeWatch($taskId: ID, $after: ID) {
    taskUpdated(taskId: $taskId, after: $after) {
      change
      task {
        id
        title
      }
    }
  }
`);

const ResumeCreate = graphql(`
  mutation ResumeCreate($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
    }
  }
`);

const ResumeRename = graphql(`
  mutation ResumeRename($id: ID!, $title: String!) {
    updateTask(id: $id, input: { title: $title }) {
      id
    }
  }
`);

type Update = ExecutionResult<{ taskUpdated: { change: string; task: { title: string } } }> & {
  extensions?: { eventId?: string };
};

const titleOf = (e: Update) => e.data?.taskUpdated.task.title;

async function rename(server: TestServer, id: string, title: string) {
  const res = await server.gql(ResumeRename, { id, title });
  expect(res.errors).toBeUndefined();
}

async function newTask(server: TestServer): Promise<string> {
  const res = await server.gql(ResumeCreate, { input: { title: 't0' } });
  expect(res.errors).toBeUndefined();
  return res.data!.createTask.id;
}

/** Resuming over graphql-ws: what a client that lost its socket gets back. */
function resumesOver(servers: () => { watcher: TestServer; writer: TestServer }) {
  it('sends each result with extensions.eventId, and a client resuming after it gets exactly what it missed, then live results', async () => {
    const { watcher, writer } = servers();
    const taskId = await newTask(writer);
    const first = await subscribe(watcher, ResumeWatch, { taskId });
    await rename(writer, taskId, 't1');
    let seen = (await first.waitForNext()) as Update;
    // Through Redis, the task's CREATED event, published before this subscription, may still
    // have been on its way to the watcher's reader when it subscribed (round 1 of this session).
    if (seen.data?.taskUpdated.change === 'CREATED') seen = (await first.waitForNext()) as Update;
    expect(titleOf(seen)).toBe('t1');
    expect(seen.extensions?.eventId).toMatch(/^\d+-\d+$/);
    await first.close();

    for (const title of ['t2', 't3', 't4']) await rename(writer, taskId, title);
    const resumed = await subscribe(watcher, ResumeWatch, {
      taskId,
      after: seen.extensions!.eventId!,
    });
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push((await resumed.waitForNext()) as Update);
    expect(missed.map(titleOf)).toEqual(['t2', 't3', 't4']);
    // Nothing else was replayed: the next result is the live one.
    const heard = await resumed.heardBefore(
      () => rename(writer, taskId, 't5'),
      (e) => titleOf(e as Update) === 't5',
    );
    expect(heard).toEqual([]);
    await resumed.close();
  });

  it('refuses an id it no longer holds with EVENT_TOO_OLD, and one that is not an id with BAD_USER_INPUT', async () => {
    const { watcher } = servers();
    for (const [after, code] of [
      ['1000-0', 'EVENT_TOO_OLD'],
      ['last tuesday', 'BAD_USER_INPUT'],
    ] as const) {
      const sub = await subscribe(watcher, ResumeWatch, { after });
      const result = await sub.waitForNext();
      expect(result.errors?.[0]).toMatchObject({ extensions: { code } });
      expect(result.errors?.[0]?.message).toMatch(/query the current state again|not an event id/i);
      await sub.close();
    }
  });
}

describe('resuming subscriptions, in-process events', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());
  resumesOver(() => ({ watcher: server, writer: server }));
});

const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn(NO_REDIS);

describe.skipIf(!redisUrl)('two API instances on one Redis', () => {
  let a: TestServer;
  let b: TestServer;
  const buses: PubSub[] = [];
  beforeAll(async () => {
    const prefix = `test:${randomUUID()}:`;
    const logger = createLogger('silent');
    for (let i = 0; i < 2; i++) {
      buses.push(await createRedisPubSub({ url: redisUrl!, logger, prefix }));
    }
    const tenantId = `test-${randomUUID()}`;
    a = await startTestServer(tenantId, {}, undefined, {}, { pubsub: buses[0] });
    b = await startTestServer(tenantId, {}, undefined, {}, { pubsub: buses[1] });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    for (const bus of buses) await bus.close?.();
  });

  resumesOver(() => ({ watcher: a, writer: b }));

  it('closes a revoked key’s sockets on the other instance within a second', async () => {
    const { apiKey, secret } = await b.services.auth.createKey(
      b.tenantId,
      'revoked across',
      Role.VIEWER,
    );
    const sub = await subscribe(a, ResumeWatch, {}, secret);
    const revoked = Date.now();
    const res = await b.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
      id: apiKey.id,
    } as never);
    expect(res.errors).toBeUndefined();
    const closed = await sub.waitForNext(5_000);
    expect(closed.errors?.[0]?.message).toMatch(/closed 4403/);
    expect(Date.now() - revoked).toBeLessThan(1_000);
  });

  it('refuses a revoked key on the other instance at once, not when its cached lookup expires', async () => {
    const { apiKey, secret } = await b.services.auth.createKey(
      b.tenantId,
      'cached across',
      Role.VIEWER,
    );
    const viewer = { authorization: `Bearer ${secret}` };
    const asKey = () => a.gql('{ viewer { keyId } }', undefined, viewer);
    expect((await asKey()).errors).toBeUndefined(); // now in A's lookup cache, for 5 s
    const cachedAt = Date.now();
    const res = await b.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
      id: apiKey.id,
    } as never);
    expect(res.errors).toBeUndefined();
    let refused = await asKey();
    while (!refused.errors && Date.now() - cachedAt < 5_000) refused = await asKey();
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // At once: through the bus, well inside the cache's 5 s.
    expect(Date.now() - cachedAt).toBeLessThan(1_000);
    // Nor is it still taken for a recently valid key, spared its address's bad-key limit.
    expect(a.services.auth.recentlyValid(`Bearer ${secret}`)).toBe(false);
  });
});

describe.skipIf(!redisUrl)('rate limits shared by two API instances through Redis', () => {
  const PER_MINUTE = 10;
  let a: TestServer;
  let b: TestServer;
  const limits: RateLimit[] = [];
  beforeAll(async () => {
    const prefix = `test:${randomUUID()}:`;
    const logger = createLogger('silent');
    const tenantId = `test-${randomUUID()}`;
    const limited = { rateLimitPerMinute: PER_MINUTE };
    for (const _ of [1, 2]) {
      limits.push(await redisRateLimit({ url: redisUrl!, perMinute: PER_MINUTE, logger, prefix }));
    }
    a = await startTestServer(tenantId, limited, undefined, {}, { rateLimit: limits[0] });
    b = await startTestServer(tenantId, limited, undefined, {}, { rateLimit: limits[1] });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    for (const limit of limits) await limit.close?.();
  });

  it('refuses a key past its rate however its requests are spread over the instances', async () => {
    const key = { authorization: `Bearer ${a.adminKey}` }; // one key, two instances
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE + 4; i++) {
      statuses.push((await (i % 2 ? a : b).gql('{ viewer { keyId } }', undefined, key)).status);
    }
    // Each instance alone would have allowed all of its 7.
    expect(statuses.filter((s) => s === 200)).toHaveLength(PER_MINUTE);
    expect(statuses.slice(PER_MINUTE)).toEqual([429, 429, 429, 429]);
  });
});
