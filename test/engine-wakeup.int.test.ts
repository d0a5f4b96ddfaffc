import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { echoExecutor } from '../src/engine/executor.js';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { startScheduler, waitForWorkflow, FINISHED } from './utils/engine.js';
import { createOperators, startPlan } from './utils/engine-steps.js';
import { NO_REDIS } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';

const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn(NO_REDIS);

/**
 * A scheduler that would not poll again for an hour still starts a step as soon as it becomes
 * READY: the task event wakes it. The first tick (at start) finds nothing; only the event can
 * make it claim.
 */
describe('engine wake-ups through task events', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const done of cleanup.splice(0).reverse()) await done();
  });

  async function runsAtOnce(api: TestServer, workerBus: PubSub) {
    await createOperators(api, { Echo: ['echo'] });
    const scheduler = startScheduler(api, echoExecutor(), {
      pubsub: workerBus,
      pollMs: 3_600_000,
      workerId: `sleepy-${randomUUID().slice(0, 8)}`,
    });
    cleanup.push(() => scheduler.stop({ abort: true }));
    await new Promise((r) => setTimeout(r, 200)); // its first tick has run, and found nothing
    const ids = await startPlan(api, [
      { key: 'root', title: 'Wake up' },
      { key: 'a', title: 'Step a', parentKey: 'root', requiredCapabilities: ['echo'] },
      {
        key: 'b',
        title: 'Step b',
        parentKey: 'root',
        requiredCapabilities: ['echo'],
        dependsOnKeys: ['a'],
      },
    ]);
    const tasks = await waitForWorkflow(
      api,
      ids.root!,
      (all) => FINISHED.includes(all.find((t) => t.id === ids.root)!.status),
      30_000,
    );
    expect(tasks.map((t) => t.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  }

  it('in one process', async () => {
    const api = await startTestServer();
    cleanup.push(() => api.stop());
    await runsAtOnce(api, api.pubsub);
  });

  it.skipIf(!redisUrl)('from another process’s event, through Redis', async () => {
    const prefix = `test:${randomUUID()}:`;
    const logger = createLogger('silent');
    const apiBus = await createRedisPubSub({ url: redisUrl!, logger, prefix });
    const workerBus = await createRedisPubSub({ url: redisUrl!, logger, prefix });
    cleanup.push(
      () => apiBus.close!(),
      () => workerBus.close!(),
    );
    const api = await startTestServer(undefined, {}, undefined, {}, { pubsub: apiBus });
    cleanup.push(() => api.stop());
    await runsAtOnce(api, workerBus);
  });
});
