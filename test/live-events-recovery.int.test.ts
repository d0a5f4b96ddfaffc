import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { graphql } from './generated/index.js';
import { createPlan, sleep, startWorkflow } from './utils/engine-steps.js';
import { runWorker, type AppProcess } from './utils/process.js';
import { redisServerBinary, startRedisServer, type RedisServer } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe, type Subscription } from './utils/ws.js';

const RecoveryWatch = graphql(`
  subscription RecoveryWatch($rootId: ID, $after: ID) {
    taskUpdated(rootId: $rootId, after: $after) {
      task {
        id
        status
      }
    }
  }
`);

type Watched = { taskUpdated: { task: { id: string; status: string } } };
type Heard = ExecutionResult<Watched> & { extensions?: { eventId?: string } };

/**
 * Two API instances (in this test's process, each on its own Redis connection), two worker
 * processes, one Redis (persistent, as in production, a process of its own) and one Neo4j, on
 * loopback. Redis is killed in the middle of a workflow and started again. The same set-up with
 * the APIs as processes too: live-events-processes.int.test.ts.
 */
describe.skipIf(!redisServerBinary())('Redis stopped in the middle of a workflow', () => {
  const prefix = `test:${randomUUID()}:`;
  let redis: RedisServer;
  const buses: PubSub[] = [];
  let a: TestServer;
  let b: TestServer;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer(undefined, { persistent: true });
    for (let i = 0; i < 2; i++) {
      buses.push(
        await createRedisPubSub({ url: redis.url, logger: createLogger('silent'), prefix }),
      );
    }
    const relay = { afterMs: 2_000 };
    a = await startTestServer(undefined, {}, undefined, {}, { pubsub: buses[0], relay });
    b = await startTestServer(a.tenantId, {}, undefined, {}, { pubsub: buses[1], relay });
    for (const n of [1, 2]) {
      const proc = runWorker({
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        EVENT_RELAY_AFTER_MS: '2000',
        ECHO_DELAY_MS: '300',
        WORKER_ID: `recovery-${n}`,
        WORKER_TENANTS: a.tenantId,
      });
      workers.push(proc);
      await proc.waitFor(/Worker recovery-\d running/);
    }
  });
  afterAll(async () => {
    for (const w of workers) {
      if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await w.exited;
    }
    await b?.stop();
    await a?.stop();
    for (const bus of buses) await bus.close?.();
    await redis?.dispose();
  });

  it('keeps queries and mutations working, ends subscriptions retryably, and a client resuming with after misses nothing', async () => {
    await a.gql(
      `mutation { createAgents(inputs: [{ name: "Echo", role: MASTER_OPERATOR, capabilities: [{ name: "echo" }] }]) { id } }`,
    );
    const steps = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const ids = await createPlan(a, [
      { key: 'root', title: 'Across a Redis outage' },
      ...steps.map((key, i) => ({
        key,
        title: `Step ${key}`,
        parentKey: 'root',
        requiredCapabilities: ['echo'],
        // Two parallel chains of three: work goes on in both workers through the outage.
        dependsOnKeys: i >= 2 ? [steps[i - 2]!] : [],
      })),
    ]);

    const heard: { id: string; status: string; eventId: string }[] = [];
    const listen = async (watch: Subscription<Watched>, until: () => boolean) => {
      while (!until()) {
        const event = (await watch.waitForNext(30_000)) as Heard;
        if (event.errors) return event.errors[0];
        const { id, status } = event.data!.taskUpdated.task;
        heard.push({ id, status, eventId: event.extensions!.eventId! });
      }
      return null;
    };

    // A subscriber on A; the workflow started on B and run by the workers.
    const first = await subscribe(a, RecoveryWatch, { rootId: ids.root! });
    await startWorkflow(b, ids.root!);
    await listen(first, () => heard.some((h) => h.status === 'COMPLETED'));

    await redis.stop(true);
    const ended = await listen(first, () => false);
    expect(ended).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } }); // not a 4403 close
    await first.close();
    // The graph is the record: both instances answer, and take writes, while Redis is away.
    const during = await b.gql(`mutation { createTask(input: { title: "while away" }) { id } }`);
    expect(during.errors).toBeUndefined();
    const read = await a.gql(`query($id: ID!) { task(id: $id) { id } }`, { id: ids.root } as never);
    expect(read.errors).toBeUndefined();
    await sleep(1_500); // the workers go on with the workflow meanwhile
    await redis.start();

    // Resume from the last event heard, trying again while the instance reconnects.
    const last = heard.at(-1)!.eventId;
    let resumed: Subscription<Watched> | null = null;
    const deadline = performance.now() + 20_000;
    while (!resumed) {
      const attempt = await subscribe(a, RecoveryWatch, {
        rootId: ids.root!,
        after: last,
      });
      const before = heard.length;
      const refused = await listen(attempt, () => heard.length > before);
      if (!refused) resumed = attempt;
      else {
        expect(refused).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
        await attempt.close();
        if (performance.now() > deadline) throw new Error('could not resume after Redis came back');
        await sleep(300);
      }
    }
    // Until every task is heard COMPLETED: after an outage, two workers' backlogs may come out of
    // causal order (a step's completion after its root's), but none may be missing.
    const done = (key: string) => heard.some((h) => h.id === ids[key] && h.status === 'COMPLETED');
    expect(await listen(resumed, () => ['root', ...steps].every(done))).toBeNull();
    await resumed.close();

    // Nothing twice, and every step heard claimed and completed, as the graph has it.
    expect(new Set(heard.map((h) => h.eventId)).size).toBe(heard.length);
    const workflow = await a.gql(
      `query($id: ID!) { workflow(taskId: $id) { tasks { id status } } }`,
      { id: ids.root } as never,
    );
    const tasks = (workflow.data as { workflow: { tasks: { id: string; status: string }[] } })
      .workflow.tasks;
    expect(tasks.every((t) => t.status === 'COMPLETED')).toBe(true);
    for (const key of steps) {
      const statuses = heard.filter((h) => h.id === ids[key]).map((h) => h.status);
      expect(statuses, `step ${key}`).toEqual(expect.arrayContaining(['IN_PROGRESS', 'COMPLETED']));
    }
  }, 120_000);
});
