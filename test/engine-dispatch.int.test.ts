import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TaskPriority, TaskStatus, type Task } from '../src/domain/task.js';
import { offerSteps, openDispatch, type StepDispatch } from '../src/engine/dispatch.js';
import { StepError, type Executor } from '../src/engine/executor.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { TOPICS } from '../subscriptions/topics.js';
import { allFinished, byKey, startScheduler, waitForWorkflow } from './utils/engine.js';
import { captureLogger } from './utils/log-capture.js';
import { createOperators, startPlan } from './utils/engine-steps.js';
import { NO_REDIS, startRedisServer } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 15: with REDIS_URL, READY steps are handed to schedulers through Redis; Neo4j stays the
// record, and its queue, searched now and then, finds whatever the dispatch missed.

const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn(NO_REDIS);

const ok: Executor = async () => ({ result: 'ok' });
/** Layers of 3 steps, each step after the first layer depending on the whole layer before. */
const layered = (layers: number) => [
  { key: 'root', title: 'Dispatched' },
  ...Array.from({ length: layers * 3 }, (_, i) => ({
    key: `s${i}`,
    title: `Step ${i}`,
    parentKey: 'root',
    dependsOnKeys: i < 3 ? [] : [0, 1, 2].map((j) => `s${(Math.floor(i / 3) - 1) * 3 + j}`),
  })),
];

describe.skipIf(!redisUrl)('step dispatch through Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let redis: Redis;
  let bus: PubSub;
  let server: TestServer;
  const dispatches: StepDispatch[] = [];
  const schedulers: Scheduler[] = [];
  const silent = createLogger('silent');

  beforeAll(async () => {
    redis = new Redis(redisUrl!);
    bus = await createRedisPubSub({
      url: redisUrl!,
      logger: silent,
      prefix,
      onPublish: offerSteps(prefix),
    });
    server = await startTestServer(undefined, {}, undefined, {}, { pubsub: bus });
    await createOperators(server, { Worker: [] });
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.stop({ abort: true })));
    await Promise.all(dispatches.map((d) => d.close()));
    await server?.stop();
    await bus?.close?.();
    redis?.disconnect();
  });

  /** A scheduler of the suite's tenant taking dispatched steps, as a process of its own would. */
  async function dispatchingScheduler(executor: Executor, queuePollMs: number, url = redisUrl!) {
    const dispatch = await openDispatch({ url, prefix }, silent);
    dispatches.push(dispatch);
    const scheduler = startScheduler(server, executor, { dispatch, queuePollMs });
    schedulers.push(scheduler);
    return scheduler;
  }
  const stopAll = async () => {
    await Promise.all(schedulers.splice(0).map((s) => s.stop({ abort: true })));
  };

  it('runs a workflow on steps taken from Redis alone: Neo4j’s queue is searched only at start', async () => {
    // Both search the queue once, on their first tick (nothing is READY yet), then not for 10 min.
    await dispatchingScheduler(ok, 600_000);
    await dispatchingScheduler(ok, 600_000);
    await new Promise((r) => setTimeout(r, 200));
    const ids = await startPlan(server, layered(4));
    const tasks = byKey(await waitForWorkflow(server, ids.root!, allFinished));
    expect(Object.values(tasks).map((t) => t.status)).toEqual(Array(13).fill('COMPLETED'));
    // A claimed step's STARTED event took it out again: nothing is left to hand out.
    expect(await redis.zcard(`${prefix}dispatch:${server.tenantId}`)).toBe(0);
    await stopAll();
  });

  it('falls back to the queue for what cannot be dispatched: a retry’s backoff, and Redis away', async () => {
    // The retry's READY event is taken before its backoff ends: the claim skips it, the poll runs it.
    let attempts = 0;
    const flaky: Executor = async ({ task }) => {
      if (task.key === 's1' && ++attempts === 1) throw new StepError('flaky once', true);
      return { result: 'ok' };
    };
    await dispatchingScheduler(flaky, 300);
    const ids = await startPlan(server, layered(2));
    const tasks = byKey(await waitForWorkflow(server, ids.root!, allFinished));
    expect(tasks.s1!.runs.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(tasks.root!.status).toBe('COMPLETED');
    await stopAll();

    // A Redis that cannot be reached at start is an error that says what for.
    await expect(openDispatch({ url: 'redis://127.0.0.1:1', prefix }, silent)).rejects.toThrow(
      /^Cannot reach Redis for step dispatch \(REDIS_URL\)/,
    );
    // A scheduler whose dispatch Redis is gone later still runs every step, from Neo4j's queue.
    const lost = await startRedisServer();
    const { logger, entries } = captureLogger('info');
    const dispatch = await openDispatch({ url: lost.url, prefix }, logger);
    dispatches.push(dispatch);
    await lost.dispose();
    schedulers.push(startScheduler(server, ok, { dispatch, queuePollMs: 200 }));
    const again = await startPlan(server, layered(2));
    const done = byKey(await waitForWorkflow(server, again.root!, allFinished));
    expect(done.root!.status).toBe('COMPLETED');
    expect(entries.filter((e) => /Step dispatch \(Redis\) unreachable/.test(e.msg))).toHaveLength(
      1,
    );
    await stopAll();
  });

  it('hands each step out once, by priority then age within a tenant, serving tenants in turn', async () => {
    const p = `test:${randomUUID()}:`;
    const offer = offerSteps(p);
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const task = (tenantId: string, id: string, priority: TaskPriority, s: number) =>
      ({
        id,
        tenantId,
        priority,
        createdAt: at(s),
        orchestrated: true,
        status: TaskStatus.READY,
      }) as Task;
    const send = (t: Task) => offer(redis, TOPICS.taskUpdated, { tenantId: t.tenantId, task: t });
    // Offers are sent and not awaited (the bus's hook); the taker reads on a connection of its
    // own, so a take could reach Redis first. One connection's commands run in order: a PING
    // answered after them means they ran.
    const sent = () => redis.ping();
    for (const t of [
      task('a', 'a-low-old', TaskPriority.LOW, 1),
      task('a', 'a-urgent-new', TaskPriority.URGENT, 9),
      task('a', 'a-medium-1', TaskPriority.MEDIUM, 2),
      task('a', 'a-medium-2', TaskPriority.MEDIUM, 3),
      task('b', 'b-high', TaskPriority.HIGH, 5),
      task('b', 'b-low', TaskPriority.LOW, 4),
    ])
      send(t);
    // Published twice (at-least-once delivery): still one entry.
    send(task('a', 'a-medium-2', TaskPriority.MEDIUM, 3));
    // Claimed meanwhile (any status but READY): taken out.
    send({ ...task('c', 'c-started', TaskPriority.URGENT, 0), status: TaskStatus.IN_PROGRESS });
    await sent();
    const dispatch = await openDispatch({ url: redisUrl!, prefix: p }, silent);
    dispatches.push(dispatch);
    const ids = async (n: number, tenants: string[] | null) =>
      (await dispatch.take(n, tenants)).map((s) => s.taskId);
    expect(await ids(3, ['b'])).toEqual(['b-high', 'b-low']);
    send(task('b', 'b-later', TaskPriority.LOW, 8));
    await sent();
    // Tenant a was not served yet, so it goes first; then one each in turn.
    expect(await ids(3, null)).toEqual(['a-urgent-new', 'b-later', 'a-medium-1']);
    // Two takers at once never get the same step.
    const [x, y] = await Promise.all([ids(1, null), ids(5, null)]);
    expect([...x, ...y].sort()).toEqual(['a-low-old', 'a-medium-2']);
    expect(await ids(5, null)).toEqual([]);
    expect(await redis.zcard(`${p}dispatch:tenants`)).toBe(0);
  });
});
