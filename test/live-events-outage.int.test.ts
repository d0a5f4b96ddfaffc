import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { createLogger } from '../src/logger.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { graphql } from './generated/index.js';
import { redisServerBinary, startRedisServer, type RedisServer } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const OutageWatch = graphql(`
  subscription OutageWatch {
    taskUpdated {
      task {
        title
      }
    }
  }
`);

/**
 * Redis taken away under a running API and brought back: the API keeps answering, live
 * subscriptions end with a retryable error, and its own watchers (revocations) come back.
 */
describe.skipIf(!redisServerBinary())('the API while Redis goes away and comes back', () => {
  let redis: RedisServer;
  let bus: PubSub;
  let server: TestServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    bus = await createRedisPubSub({ url: redis.url, logger: createLogger('silent') });
    server = await startTestServer(undefined, {}, undefined, {}, { pubsub: bus });
  });
  afterAll(async () => {
    await server?.stop();
    await bus?.close?.();
    await redis?.dispose();
  });

  const createTask = (title: string) =>
    server.gql(`mutation($t: String!) { createTask(input: { title: $t }) { id } }`, {
      t: title,
    } as never);

  it('answers queries and mutations, ends subscriptions with SERVICE_UNAVAILABLE, and watches revocations again once it is back', async () => {
    const watch = await subscribe(server, OutageWatch);
    await redis.stop(true);
    const ended = await watch.waitForNext(10_000);
    expect(ended.errors?.[0]).toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 },
    });
    await watch.close();

    // The graph is the record: writes go on without the bus.
    const created = await createTask('written while Redis is away');
    expect(created.errors).toBeUndefined();

    await redis.start();
    // Live again: a new subscription hears a new change.
    let heard = false;
    const deadline = performance.now() + 20_000;
    while (!heard) {
      const again = await subscribe(server, OutageWatch);
      await createTask('after Redis came back');
      const next = await again.waitForNext(2_000).catch(() => null);
      heard = next?.data?.taskUpdated.task.title === 'after Redis came back';
      await again.close();
      if (!heard && performance.now() > deadline) throw new Error('live events did not come back');
    }

    // The API's revocation watcher subscribed again: revoking a key closes its socket.
    const { apiKey, secret } = await server.services.auth.createKey(
      server.tenantId,
      'revoked after the outage',
      Role.VIEWER,
    );
    const viewer = await subscribe(server, OutageWatch, undefined, secret);
    const revoked = await server.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
      id: apiKey.id,
    } as never);
    expect(revoked.errors).toBeUndefined();
    const closed = await viewer.waitForNext(5_000);
    expect(closed.errors?.[0]?.message).toMatch(/closed 4403/);
  });
});
