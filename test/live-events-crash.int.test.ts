import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { graphql } from './generated/index.js';
import { createPlan, eventually, startWorkflow } from './utils/engine-steps.js';
import { runWorker } from './utils/process.js';
import { redisServerBinary, startRedisServer, type RedisServer } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const CrashWatch = graphql(`
  subscription CrashWatch($rootId: ID) {
    taskUpdated(rootId: $rootId) {
      task {
        id
        status
      }
    }
  }
`);

/**
 * A worker killed after a step's commit and before its event reached Redis. Redis holds
 * writes (CLIENT PAUSE WRITE) so the worker's publish is in flight when it dies: without the
 * outbox that event is gone; with it, the API's relay publishes it.
 */
describe.skipIf(!redisServerBinary())('a worker SIGKILLed between commit and publish', () => {
  const prefix = `test:${randomUUID()}:`;
  let redis: RedisServer;
  let bus: PubSub;
  let api: TestServer;
  beforeAll(async () => {
    redis = await startRedisServer(); // its own: CLIENT PAUSE would stall other suites' Redis
    bus = await createRedisPubSub({ url: redis.url, logger: createLogger('silent'), prefix });
    api = await startTestServer(
      undefined,
      {},
      undefined,
      {},
      {
        pubsub: bus,
        relay: { afterMs: 10_000 },
      },
    );
  });
  afterAll(async () => {
    await api?.stop();
    await bus?.close?.();
    await redis?.dispose();
  });

  it('loses no event of the steps that completed', async () => {
    await api.gql(
      `mutation { createAgents(inputs: [{ name: "Echo", role: MASTER_OPERATOR, capabilities: [{ name: "echo" }] }]) { id } }`,
    );
    const ids = await createPlan(api, [
      { key: 'root', title: 'Killed mid-run' },
      { key: 'a', title: 'Step a', parentKey: 'root', requiredCapabilities: ['echo'] },
      { key: 'b', title: 'Step b', parentKey: 'root', dependsOnKeys: ['a'] },
    ]);
    const worker = runWorker({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      EVENT_RELAY_AFTER_MS: '1000', // its events are the relay's a second after it dies
      ECHO_DELAY_MS: '1500',
      WORKER_TENANTS: api.tenantId,
    });
    await worker.waitFor(/Worker .* running/);

    const watch = await subscribe(api, CrashWatch, { rootId: ids.root! });
    const heard = new Map<string, string>();
    const hear = async (until: () => boolean, ms: number) => {
      while (!until()) {
        const event = await watch.waitForNext(ms).catch((err: Error) => {
          const named = [...heard].map(
            ([id, s]) => `${id === ids.a ? 'a' : id === ids.b ? 'b' : 'root'} ${s}`,
          );
          throw new Error(`${err.message}; heard last: ${named.join(', ')}`);
        });
        expect(event.errors).toBeUndefined();
        const { id, status } = event.data!.taskUpdated.task;
        heard.set(id, status);
      }
    };
    const statusOf = async (id: string) =>
      (
        (await api.gql(`query($id: ID!) { task(id: $id) { status } }`, { id } as never)).data as {
          task: { status: string };
        }
      ).task.status;
    await startWorkflow(api, ids.root!);
    await hear(() => heard.get(ids.a!) === 'IN_PROGRESS', 20_000);

    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '6000', 'WRITE');
      // Step a completes in Neo4j while its event waits on Redis; then the worker dies.
      await eventually(
        'step a completed in the graph',
        async () => (await statusOf(ids.a!)) === 'COMPLETED',
        10_000,
      );
      worker.child.kill('SIGKILL');
      await worker.exited;
    } finally {
      admin.disconnect();
    }

    // Every step's last status in the graph is heard, the completed step's above all.
    await hear(() => heard.get(ids.a!) === 'COMPLETED', 20_000);
    // Step b: made READY by the worker if it lived long enough (PENDING since it was planned if not).
    const b = await statusOf(ids.b!);
    if (b !== 'PENDING') await hear(() => heard.get(ids.b!) === b, 20_000);
    await watch.close();
  }, 120_000);
});
