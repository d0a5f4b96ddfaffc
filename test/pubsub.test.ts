import { describe, expect, it } from 'vitest';
import { SubscriptionLimitError } from '../subscriptions/errors.js';
import { eventIdOf, withEventId } from '../subscriptions/event-id.js';
import { createFanout, OFFERS_PER_TURN } from '../subscriptions/fanout.js';
import { createInProcessPubSub, tenantEvents } from '../subscriptions/pubsub.js';
import { resumeContract } from './utils/pubsub-contract.js';

describe('in-process pub/sub', () => {
  it('delivers a topic to every subscriber in publish order', async () => {
    const pubsub = createInProcessPubSub();
    const a = pubsub.subscribe('t');
    const b = pubsub.subscribe('t');
    const other = pubsub.subscribe('u');
    for (const n of [1, 2, 3]) pubsub.publish('t', n);
    for (const it of [a, b]) {
      expect([(await it.next()).value, (await it.next()).value, (await it.next()).value]).toEqual([
        1, 2, 3,
      ]);
    }
    pubsub.publish('u', 'x');
    expect((await other.next()).value).toBe('x');
  });

  it('wakes a waiting subscriber and stops delivering after return()', async () => {
    const pubsub = createInProcessPubSub();
    const it = pubsub.subscribe('t');
    const pending = it.next();
    pubsub.publish('t', 'hello');
    expect(await pending).toEqual({ value: 'hello', done: false });
    await it.return?.();
    pubsub.publish('t', 'late');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('unsubscribes at once on return(), settling a pending next() as done', async () => {
    const pubsub = createInProcessPubSub();
    const it = pubsub.subscribe('t');
    const pending = it.next();
    expect(pubsub.subscriberCount('t')).toBe(1);
    const returned = it.return!();
    expect(pubsub.subscriberCount('t')).toBe(0);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await returned).toEqual({ value: undefined, done: true });
    await it.return!();
    expect(pubsub.subscriberCount()).toBe(0);
  });

  it('counts live subscribers per topic and in all, and every subscription made', async () => {
    const pubsub = createInProcessPubSub();
    const a = pubsub.subscribe('t', { tenantId: 'x' });
    pubsub.subscribe('t');
    pubsub.subscribe('u', { tenantId: 'y' });
    expect(pubsub.subscriberCount('t')).toBe(2);
    expect(pubsub.subscriberCount('u')).toBe(1);
    expect(pubsub.subscriberCount('none')).toBe(0);
    expect(pubsub.subscriberCount()).toBe(3);
    await a.return!();
    expect(pubsub.subscriberCount('t')).toBe(1);
    expect(pubsub.subscriptionsMade()).toBe(3);
  });

  it('never buffers another tenant’s events, however many are published', async () => {
    const pubsub = createInProcessPubSub({ maxBufferedEvents: 5 });
    const mine = pubsub.subscribe('t', tenantEvents('a'));
    const everyone = pubsub.subscribe('t', { maxBuffered: 10_000 });
    for (let n = 0; n < 1000; n++) pubsub.publish('t', { tenantId: 'b', n });
    pubsub.publish('t', { tenantId: 'a', n: 'own' });
    expect(await mine.next()).toEqual({ value: { tenantId: 'a', n: 'own' }, done: false });
    expect(pubsub.subscriberCount('t')).toBe(2);
    // The unscoped watcher saw all of them, in order.
    expect((await everyone.next()).value).toEqual({ tenantId: 'b', n: 0 });
  });

  it('applies a subscriber’s filter before buffering', async () => {
    const pubsub = createInProcessPubSub({ maxBufferedEvents: 2 });
    const odd = pubsub.subscribe(
      't',
      tenantEvents<{ n: number }>('a', (e) => e.n % 2 === 1),
    );
    for (const n of [0, 2, 4, 6, 1, 8, 3]) pubsub.publish('t', { tenantId: 'a', n });
    expect((await odd.next()).value).toEqual({ tenantId: 'a', n: 1 });
    expect((await odd.next()).value).toEqual({ tenantId: 'a', n: 3 });
  });

  it('ends a subscriber that falls more than maxBufferedEvents behind with LIMIT_EXCEEDED', async () => {
    const pubsub = createInProcessPubSub({ maxBufferedEvents: 3 });
    const slow = pubsub.subscribe('t');
    const fast = pubsub.subscribe('t', { maxBuffered: 100 });
    for (const n of [1, 2, 3]) pubsub.publish('t', n);
    await delivered();
    expect(pubsub.subscriberCount('t')).toBe(2);
    pubsub.publish('t', 4);
    await delivered();
    // Unsubscribed on delivery, its buffer dropped; the other subscriber is untouched.
    expect(pubsub.subscriberCount('t')).toBe(1);
    const failure = await slow.next().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SubscriptionLimitError);
    expect((failure as SubscriptionLimitError).extensions).toEqual({
      code: 'LIMIT_EXCEEDED',
      limit: 'bufferedEvents',
      max: 3,
    });
    expect((failure as Error).message).toMatch(/more than 3 events were waiting/);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await fast.next()).value);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('ends only the subscriber whose filter throws; publish() still reaches the others', async () => {
    const pubsub = createInProcessPubSub();
    const broken = pubsub.subscribe('t', {
      filter: () => {
        throw new Error('filter bug');
      },
    });
    const fine = pubsub.subscribe('t');
    const pending = broken.next();
    expect(() => pubsub.publish('t', 'event')).not.toThrow();
    await expect(pending).rejects.toThrow('filter bug');
    expect((await fine.next()).value).toBe('event');
    expect(pubsub.subscriberCount('t')).toBe(1);
  });
});

describe('in-process pub/sub: resuming', () => {
  resumeContract(async (opts) => createInProcessPubSub(opts));

  it('cannot replay from before it started: EVENT_TOO_OLD', async () => {
    const before = createInProcessPubSub();
    const first = before.subscribe('t', { tenantId: 'a' });
    before.publish('t', { tenantId: 'a' });
    const id = eventIdOf((await first.next()).value)!;
    await new Promise((r) => setTimeout(r, 2)); // a restart takes at least a millisecond
    const after = createInProcessPubSub();
    await expect(after.subscribe('t', { tenantId: 'a', after: id }).next()).rejects.toMatchObject({
      extensions: { code: 'EVENT_TOO_OLD' },
    });
  });
});

describe('fan-out replay', () => {
  it('drops a live event the replay already gave, even when the reader delivers it afterwards', async () => {
    const fanout = createFanout(100);
    const event = (n: number) => withEventId({ tenantId: 'a', n }, `5-${n}`);
    const it = fanout.subscribe('t', { tenantId: 'a', after: '5-0' }, async () => [
      event(1),
      event(2),
    ]);
    expect((await it.next()).value).toMatchObject({ n: 1 });
    expect((await it.next()).value).toMatchObject({ n: 2 });
    // The live stream's reader lags behind the history's read: 2 arrives again, then 3.
    fanout.deliver('t', event(2));
    fanout.deliver('t', event(3));
    expect((await it.next()).value).toMatchObject({ n: 3 });
  });
});

describe('fan-out to many subscribers', () => {
  it('offers an event in slices, letting other work run between them, and keeps each subscriber’s order', async () => {
    const fanout = createFanout(10);
    const n = OFFERS_PER_TURN * 3 + 7;
    const subscribers = Array.from({ length: n }, () => fanout.subscribe('t', {}));
    const received = subscribers.map(() => [] as unknown[]);
    const pending = subscribers.map((it, i) =>
      (async () => {
        for (let k = 0; k < 3; k++) received[i]!.push((await it.next()).value);
      })(),
    );
    let gotWhenOtherWorkRan = -1;
    fanout.deliver('t', 'a');
    fanout.deliver('t', 'b');
    fanout.deliver('t', 'c');
    // Queued after the deliveries began: on one long turn it would run after the last offer.
    setImmediate(() => (gotWhenOtherWorkRan = received.filter((r) => r.length > 0).length));
    await Promise.all(pending);
    expect(gotWhenOtherWorkRan).toBeGreaterThan(0);
    expect(gotWhenOtherWorkRan).toBeLessThan(n);
    for (const r of received) expect(r).toEqual(['a', 'b', 'c']);
  });
});

describe('in-process pub/sub that keeps no events', () => {
  it('refuses to resume (EVENT_TOO_OLD) rather than replaying nothing', async () => {
    const pubsub = createInProcessPubSub({ replayEvents: 0 });
    const first = pubsub.subscribe('t', { tenantId: 'a' });
    pubsub.publish('t', { tenantId: 'a', n: 1 });
    const id = eventIdOf((await first.next()).value)!;
    pubsub.publish('t', { tenantId: 'a', n: 2 });
    await expect(pubsub.subscribe('t', { tenantId: 'a', after: id }).next()).rejects.toMatchObject({
      extensions: { code: 'EVENT_TOO_OLD' },
    });
  });
});

/** In-process events reach subscribers after the publisher's own continuation (a macrotask). */
function delivered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
