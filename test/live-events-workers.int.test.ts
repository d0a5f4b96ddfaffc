import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { graphql } from './generated/index.js';
import { createPlan, startWorkflow } from './utils/engine-steps.js';
import { runWorker, type AppProcess } from './utils/process.js';
import { NO_REDIS } from './utils/redis.js';
import { parseExposition, total } from './utils/prom-text.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const WorkersWatch = graphql(`
  subscription WorkersWatch($rootId: ID) {
    taskUpdated(rootId: $rootId) {
      task {
        id
        status
      }
    }
  }
`);

const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn(NO_REDIS);

const WORKER_METRICS_TOKEN = 'a-worker-metrics-token-for-the-suite';

/** Where a task's status may go next: each heard transition must be one of these. */
const LIFECYCLE = ['PENDING', 'READY', 'IN_PROGRESS', 'COMPLETED'];

describe.skipIf(!redisUrl)('live events from worker processes, through Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let api: TestServer;
  let other: TestServer;
  let bus: PubSub;
  let otherBus: PubSub;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    bus = await createRedisPubSub({ url: redisUrl!, logger: createLogger('silent'), prefix });
    // The API runs no scheduler: every step is run by the two worker processes.
    api = await startTestServer(undefined, {}, undefined, {}, { pubsub: bus });
    // A second API instance of the same tenant on its own connection to the same Redis.
    otherBus = await createRedisPubSub({ url: redisUrl!, logger: createLogger('silent'), prefix });
    other = await startTestServer(api.tenantId, {}, undefined, {}, { pubsub: otherBus });
    for (const n of [1, 2]) {
      const workerId = `live-${n}-${prefix.slice(5, 13)}`;
      const proc = runWorker({
        REDIS_URL: redisUrl!,
        REDIS_KEY_PREFIX: prefix,
        ECHO_DELAY_MS: '20',
        WORKER_ID: workerId,
        WORKER_TENANTS: api.tenantId,
      });
      workers.push(proc);
      await proc.waitFor(new RegExp(`Worker ${workerId} running`));
    }
  });
  afterAll(async () => {
    for (const w of workers) {
      if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await w.exited;
    }
    await other?.stop();
    await api?.stop();
    await otherBus?.close?.();
    await bus?.close?.();
  });

  it('a subscriber of one API instance hears a workflow started on another and run by the workers, each task only going forward, to COMPLETED', async () => {
    const ids = await runHeardWorkflow(api, other);
    // Every step ran in a worker process: what was heard came through Redis.
    const runs = await api.gql(
      `query($id: ID!) { workflow(taskId: $id) { tasks { runs { worker } } } }`,
      { id: ids.root } as never,
    );
    const ran = (runs.data as { workflow: { tasks: { runs: { worker: string }[] }[] } }).workflow;
    const byWorker = new Set(ran.tasks.flatMap((t) => t.runs.map((r) => r.worker)));
    expect([...byWorker].every((w) => w.startsWith('live-'))).toBe(true);
  }, 120_000);
});

// Needs no Redis: it runs wherever the suite does.
describe('live events from a worker process without Redis', () => {
  it('without REDIS_URL, a worker hands its events to the API through the outbox, and none is lost', async () => {
    // An API on its in-process bus, with its relay: the worker's events reach it only through Neo4j.
    const alone = await startTestServer(
      undefined,
      {},
      undefined,
      {},
      { relay: { afterMs: 10_000 } },
    );
    const proc = runWorker({
      REDIS_URL: '',
      ECHO_DELAY_MS: '20',
      WORKER_ID: `alone-${randomUUID().slice(0, 8)}`,
      WORKER_TENANTS: alone.tenantId,
      // A worker has no HTTP server: its metrics have a port of their own (issue 17), here
      // behind a token.
      METRICS_PORT: '0',
      METRICS_TOKEN: WORKER_METRICS_TOKEN,
    });
    try {
      await proc.waitFor(
        /No REDIS_URL: the events of the steps this worker runs reach the API through Neo4j/,
      );
      const [, metricsUrl] = await proc.waitFor(/Prometheus metrics at (http:\/\/[^\s"]+)/);
      const ids = await runHeardWorkflow(alone);
      // The worker ran every step of the workflow: its scrape counts each claim and success.
      expect((await fetch(metricsUrl!)).status).toBe(401);
      const scraped = await fetch(metricsUrl!, {
        headers: { authorization: `Bearer ${WORKER_METRICS_TOKEN}` },
      });
      expect(scraped.status).toBe(200);
      const samples = parseExposition(await scraped.text());
      const steps = Object.keys(ids).length - 1;
      expect(total(samples, 'agent_platform_engine_claims_total')).toBe(steps);
      expect(
        total(samples, 'agent_platform_engine_step_duration_seconds_count', {
          outcome: 'succeeded',
        }),
      ).toBe(steps);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await alone.stop();
    }
  }, 90_000); // a worker process starting and a workflow: slow on a loaded 2-core machine
});

/**
 * Runs a four-step workflow started on `starter` (steps a, b, c in parallel, then d) and checks
 * that a subscriber of `api` heard each step go through its lifecycle, in order, to COMPLETED.
 */
async function runHeardWorkflow(
  api: TestServer,
  starter: TestServer = api,
): Promise<Record<string, string>> {
  const agents = await api.gql(
    `mutation { createAgents(inputs: [{ name: "Echo", role: MASTER_OPERATOR, capabilities: [{ name: "echo" }] }]) { id } }`,
  );
  expect(agents.errors).toBeUndefined();
  const ids = await createPlan(api, [
    { key: 'root', title: 'Heard across processes' },
    ...['a', 'b', 'c'].map((key) => ({
      key,
      title: `Step ${key}`,
      parentKey: 'root',
      requiredCapabilities: ['echo'],
    })),
    { key: 'd', title: 'Step d', parentKey: 'root', dependsOnKeys: ['a', 'b', 'c'] },
  ]);
  const watch = await subscribe(api, WorkersWatch, { rootId: ids.root! });
  await startWorkflow(starter, ids.root!);

  const heard = new Map<string, string[]>();
  while (heard.get(ids.root!)?.at(-1) !== 'COMPLETED') {
    const event = await watch.waitForNext(30_000);
    expect(event.errors).toBeUndefined();
    const { id, status } = event.data!.taskUpdated.task;
    const seen = heard.get(id) ?? [];
    if (seen.at(-1) !== status) seen.push(status); // a change of something else: same status
    heard.set(id, seen);
  }
  await watch.close();

  for (const key of ['a', 'b', 'c', 'd']) {
    const statuses = heard.get(ids[key]!) ?? [];
    expect(statuses.at(-1), `step ${key}: ${statuses.join(' > ')}`).toBe('COMPLETED');
    expect(statuses).toContain('IN_PROGRESS'); // a worker's claim, heard on the API
    const order = statuses.map((s) => LIFECYCLE.indexOf(s));
    expect(order, `step ${key}: ${statuses.join(' > ')}`).toEqual([...order].sort((x, y) => x - y));
  }
  return ids;
}
