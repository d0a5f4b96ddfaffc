import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createLogger } from '../src/logger.js';
import { eventIdOf } from '../subscriptions/event-id.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { ORDER_WAIT_MS, RECENT_MS } from '../subscriptions/sequence.js';
import { TOPICS } from '../subscriptions/topics.js';
import { NO_REDIS } from './utils/redis.js';

// Issue 14, "every transition, none missing": two processes publish one task's events after
// their own commits, so the bus can get the claim (event 3) before the promotion committed
// just before it (event 2). Each bus publishes a task's event only once the one numbered before
// it is out (subscriptions/sequence.ts), waiting ORDER_WAIT_MS at most.

const url = inject('redisUrl');
if (!url) console.warn(NO_REDIS);
const T = TOPICS.taskUpdated;
const logger = createLogger('silent');

const event = (
  task: string,
  status: string,
  seq: number,
  previousAt: number | null = Date.now(),
) => ({
  tenantId: 't',
  task: { id: task, status },
  change: 'STATUS_CHANGED',
  ancestorIds: [],
  seq,
  previousAt,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Heard = { task: { id: string; status: string }; seq: number };

/** The next `n` events as `task:seq status`. */
async function take(sub: AsyncIterableIterator<unknown>, n: number) {
  return (await takeWithId(sub, n)).heard;
}

/** The next `n` events as `task:seq status`, and the id of the last. */
async function takeWithId(sub: AsyncIterableIterator<unknown>, n: number) {
  const out: string[] = [];
  let last: unknown;
  for (let i = 0; i < n; i++) {
    last = (await sub.next()).value;
    const { task, seq } = last as Heard;
    out.push(`${task.id}:${seq} ${task.status}`);
  }
  return { heard: out, lastId: eventIdOf(last)! };
}

/** `first` and `second` publish (two processes, or one); `reader` is subscribed. */
function orderContract(
  make: () => Promise<{ first: PubSub; second: PubSub; reader: PubSub; close(): Promise<void> }>,
) {
  afterEach(() => void vi.useRealTimers());

  it('holds an event until the one numbered before it is out, then both go out in commit order', async () => {
    const { first, second, reader, close } = await make();
    try {
      const sub = reader.subscribe(T, { tenantId: 't' });
      await first.publish(T, event('x', 'PENDING', 1, null));
      const created = await takeWithId(sub, 1);
      const start = performance.now();
      const claim = second.publish(T, event('x', 'IN_PROGRESS', 3));
      await new Promise((r) => setTimeout(r, 150));
      await second.publish(T, event('other', 'READY', 1, null)); // other tasks go on
      await first.publish(T, event('x', 'READY', 2));
      expect(await claim).toBe(true);
      expect(performance.now() - start).toBeLessThan(ORDER_WAIT_MS);
      expect(await take(sub, 3)).toEqual(['other:1 READY', 'x:2 READY', 'x:3 IN_PROGRESS']);

      // A client that left after the creation resumes: the stream holds them in that order.
      const resumed = reader.subscribe(T, { tenantId: 't', after: created.lastId });
      expect(await take(resumed, 3)).toEqual(['other:1 READY', 'x:2 READY', 'x:3 IN_PROGRESS']);
      await sub.return!();
      await resumed.return!();
    } finally {
      await close();
    }
  });

  it('lets an event go out after ORDER_WAIT_MS when the one before it never comes, and at once when that one is old', async () => {
    const { second, reader, close } = await make();
    try {
      const sub = reader.subscribe(T, { tenantId: 't' });
      const start = performance.now();
      await second.publish(T, event('y', 'IN_PROGRESS', 5)); // its writer died before event 4
      const waited = performance.now() - start;
      expect(waited).toBeGreaterThanOrEqual(ORDER_WAIT_MS - 50);
      expect(waited).toBeLessThan(ORDER_WAIT_MS + 1_500);
      const idle = performance.now();
      await second.publish(T, event('z', 'READY', 9, Date.now() - RECENT_MS - 1_000));
      expect(performance.now() - idle).toBeLessThan(ORDER_WAIT_MS / 2);
      expect(await take(sub, 2)).toEqual(['y:5 IN_PROGRESS', 'z:9 READY']);
      await sub.return!();
    } finally {
      await close();
    }
  });

  // The wait for a predecessor is a duration: on the monotonic clock.
  it('lets an event go out after ORDER_WAIT_MS though the wall clock stepped back meanwhile', async () => {
    const { second, close } = await make();
    try {
      const start = performance.now();
      const sent = second.publish(T, event('v', 'IN_PROGRESS', 5)); // event 4 never comes
      await new Promise((r) => setTimeout(r, 100));
      // NTP steps the clock back an hour: on the wall clock the wait lasted that hour more.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() - 3_600_000);
      const out = await Promise.race([sent, sleep(ORDER_WAIT_MS + 3_000).then(() => 'stuck')]);
      expect(out).toBe(true);
      expect(performance.now() - start).toBeLessThan(ORDER_WAIT_MS + 1_500);
    } finally {
      vi.useRealTimers();
      await close();
    }
  });
}

describe('a task’s events out of commit order, in-process bus', () => {
  orderContract(async () => {
    const bus = createInProcessPubSub();
    return { first: bus, second: bus, reader: bus, close: async () => {} };
  });
});

describe.skipIf(!url)(
  'a task’s events out of commit order, Redis bus (a real redis-server)',
  () => {
    orderContract(async () => {
      const prefix = `test:${randomUUID()}:`;
      const [first, second, reader] = await Promise.all(
        [0, 1, 2].map(() => createRedisPubSub({ url: url!, logger, prefix })),
      );
      return {
        first: first!,
        second: second!,
        reader: reader!,
        close: async () => {
          for (const bus of [first, second, reader]) await bus!.close?.();
        },
      };
    });
  },
);

describe('a worker’s own in-process bus (no REDIS_URL)', () => {
  it('does not wait for predecessors it never hears: the API’s relay orders them', async () => {
    const bus = createInProcessPubSub({ ordered: false });
    const sub = bus.subscribe(T, { tenantId: 't' });
    const start = performance.now();
    await bus.publish(T, event('w', 'IN_PROGRESS', 7)); // event 6 was the API's
    expect(performance.now() - start).toBeLessThan(ORDER_WAIT_MS / 5);
    expect(await take(sub, 1)).toEqual(['w:7 IN_PROGRESS']);
    await sub.return!();
  });
});
