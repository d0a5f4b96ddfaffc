import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { eventIdOf } from '../subscriptions/event-id.js';
import { encodeEvent } from '../subscriptions/event-json.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { TOPICS } from '../subscriptions/topics.js';
import { resumeContract } from './utils/pubsub-contract.js';
import { captureLogger } from './utils/log-capture.js';
import { NO_REDIS, redisServerBinary, startRedisServer, type RedisServer } from './utils/redis.js';

const url = inject('redisUrl');
if (!url) console.warn(NO_REDIS);
const logger = createLogger('silent');
const T = TOPICS.taskUpdated;

describe.skipIf(!url)('Redis pub/sub (a real redis-server)', () => {
  describe('resuming', () => {
    resumeContract((opts) =>
      createRedisPubSub({ url: url!, logger, ...opts, prefix: `test:${randomUUID()}:` }),
    );
  });

  it('delivers an event published by one instance to the subscribers of another, Dates intact', async () => {
    const prefix = `test:${randomUUID()}:`;
    const a = await createRedisPubSub({ url: url!, logger, prefix });
    const b = await createRedisPubSub({ url: url!, logger, prefix });
    try {
      const onA = a.subscribe(T, { tenantId: 't' });
      const onB = b.subscribe(T, { tenantId: 't' });
      const at = new Date('2026-11-30T08:00:00.123Z');
      a.publish(T, { tenantId: 't', task: { id: 'x', createdAt: at } });
      a.publish(T, { tenantId: 'other', task: { id: 'y', createdAt: at } });
      a.publish(T, { tenantId: 't', task: { id: 'z', createdAt: at } });
      for (const it of [onA, onB]) {
        const first = (await it.next()).value as { task: { id: string; createdAt: Date } };
        expect(first.task.createdAt).toEqual(at);
        expect(first.task.id).toBe('x');
        expect(((await it.next()).value as { task: { id: string } }).task.id).toBe('z');
      }
    } finally {
      await a.close?.();
      await b.close?.();
    }
  });

  it('ends subscribers retryably when its reader fell behind what the live stream keeps, rather than skip events', async () => {
    const prefix = `test:${randomUUID()}:`;
    const a = await createRedisPubSub({ url: url!, logger, prefix, liveLength: 100 });
    try {
      const sub = a.subscribe(T, { tenantId: 't' });
      a.publish(T, { tenantId: 't', task: { id: 'first' } });
      expect(((await sub.next()).value as { task: { id: string } }).task.id).toBe('first');
      // Another process publishes 2,000 events while this one is busy (spawnSync holds its
      // event loop): the live stream keeps about 100, so the reader's place is trimmed away.
      const event = encodeEvent(T, { tenantId: 'other', task: { id: 'elsewhere' } });
      const added = spawnSync('redis-cli', [
        '-u',
        url!,
        'EVAL',
        "for i = 1, 2000 do redis.call('XADD', KEYS[1], 'MAXLEN', '~', '100', '*', 'id', '', 'e', ARGV[1]) end return 1",
        '1',
        `${prefix}live`,
        event,
      ]);
      expect(added.status, String(added.stderr)).toBe(0);
      // Events were lost to this reader: its tenant subscribers end with a retryable error.
      const ended = Promise.race([
        sub.next(),
        new Promise((resolve) => setTimeout(() => resolve('nothing within 10 s'), 10_000)),
      ]);
      await expect(ended).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: expect.stringMatching(/fell behind.*"after"/),
      });
      // A new subscriber is served: the reader goes on from the stream as it is.
      const next = a.subscribe(T, { tenantId: 't' });
      a.publish(T, { tenantId: 't', task: { id: 'later' } });
      expect(((await next.next()).value as { task: { id: string } }).task.id).toBe('later');
    } finally {
      await a.close?.();
    }
  });

  it('refuses to start with a message naming REDIS_URL when Redis cannot be reached', async () => {
    await expect(
      createRedisPubSub({ url: 'redis://127.0.0.1:1', logger, prefix: 'x:' }),
    ).rejects.toThrow(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\)/);
  });
});

describe.skipIf(!redisServerBinary())('Redis pub/sub when Redis goes away and comes back', () => {
  let redis: RedisServer;
  let pubsub: PubSub;
  beforeAll(async () => {
    redis = await startRedisServer();
    pubsub = await createRedisPubSub({ url: redis.url, logger, prefix: 'outage:' });
  });
  afterAll(async () => {
    await pubsub?.close?.();
    await redis?.dispose();
  });

  it('ends subscribers with a retryable SERVICE_UNAVAILABLE, never throws on publish, and resumes once it is back', async () => {
    const first = pubsub.subscribe(T, { tenantId: 't' });
    pubsub.publish(T, { tenantId: 't', n: 1 });
    const last = eventIdOf((await first.next()).value)!;

    await redis.stop(true);
    await expect(first.next()).rejects.toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 },
    });
    expect(() => pubsub.publish(T, { tenantId: 't', n: 2 })).not.toThrow();
    await expect(pubsub.subscribe(T, { tenantId: 't' }).next()).rejects.toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(pubsub.subscriberCount()).toBe(0);

    // Redis is back, empty (no persistence): the id the client kept is too old there, and a
    // new subscription works again once the reader reads.
    await redis.start();
    let live: AsyncIterableIterator<unknown> | null = null;
    const deadline = performance.now() + 15_000;
    while (!live) {
      const attempt = pubsub.subscribe(T, { tenantId: 't' });
      pubsub.publish(T, { tenantId: 't', n: 3 });
      const got = await Promise.race([
        attempt.next().then(
          (r) => r.value as { n: number },
          () => null,
        ),
        new Promise<null>((r) => setTimeout(() => r(null), 500)),
      ]);
      if (got?.n === 3) live = attempt;
      else await attempt.return!();
      await new Promise((r) => setTimeout(r, 200)); // lets the client reconnect
      if (!live && performance.now() > deadline) throw new Error('the bus did not come back');
    }
    await expect(pubsub.subscribe(T, { tenantId: 't', after: last }).next()).rejects.toMatchObject({
      extensions: { code: 'EVENT_TOO_OLD' },
    });
  });

  it('counts as not published only the events no outbox keeps, not each retry of a kept one', async () => {
    // The outbox retries its backlog every 500 ms: a 25 s outage with ~50 events committed was
    // reported as "3817 event(s) could not be published", as if those were lost.
    const own = await startRedisServer();
    const { logger: capture, entries } = captureLogger('info');
    const bus = await createRedisPubSub({ url: own.url, logger: capture, prefix: 'counted:' });
    try {
      await own.stop(true);
      const down = () => entries.some((e) => /event bus unreachable/.test(e.msg));
      for (const end = performance.now() + 15_000; !down() && performance.now() < end;)
        await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 5; i++) {
        expect(await bus.publish(T, { tenantId: 't', n: 1 }, { kept: true })).toBe(false);
      }
      expect(await bus.publish(T, { tenantId: 't', n: 2 })).toBe(false);
      await own.start();
      const back = () => entries.find((e) => /reachable again/.test(e.msg));
      const deadline = performance.now() + 15_000;
      while (!back() && performance.now() < deadline) {
        await bus.publish(T, { tenantId: 't', n: 3 }, { kept: true });
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(back()?.msg, JSON.stringify(entries.map((e) => e.msg))).toMatch(
        /\(1 event\(s\) could not be published\)/,
      );
    } finally {
      await bus.close?.();
      await own.dispose();
    }
  });
});
