import { afterEach, expect, it } from 'vitest';
import { eventIdOf } from '../../subscriptions/event-id.js';
import type { PubSub, SubscribeOptions } from '../../subscriptions/pubsub.js';
import { TOPICS } from '../../subscriptions/topics.js';

/**
 * Makes a pub/sub that keeps `replayEvents` per tenant stream and buffers `maxBufferedEvents`
 * per subscriber (its default when absent); several share one bus.
 */
export type MakePubSub = (opts: {
  replayEvents: number;
  maxBufferedEvents?: number;
}) => Promise<PubSub>;

interface Note {
  tenantId: string;
  n: number;
}

/**
 * The resume half of the PubSub contract (pubsub.ts), run against every adapter: ids, replay
 * after an id with no gap and no duplicate, EVENT_TOO_OLD, BAD_USER_INPUT, tenants apart.
 */
export function resumeContract(make: MakePubSub): void {
  const made: PubSub[] = [];
  const pubsub = async (replayEvents = 100, maxBufferedEvents?: number) => {
    const p = await make({ replayEvents, maxBufferedEvents });
    made.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of made.splice(0)) await p.close?.();
  });

  const T = TOPICS.taskUpdated;
  const take = async (it: AsyncIterator<unknown>, count: number) => {
    const out: Note[] = [];
    for (let i = 0; i < count; i++) out.push((await it.next()).value as Note);
    return out;
  };
  const watch = (p: PubSub, options: SubscribeOptions = {}) =>
    p.subscribe(T, { tenantId: 'a', ...options });
  /** A subscriber that heard event 0, left, and resumes after it once 1..`missed` were sent. */
  const resumedAfterMissing = async (p: PubSub, missed: number) => {
    const first = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [start] = await take(first, 1);
    await first.return!();
    for (let n = 1; n <= missed; n++) p.publish(T, { tenantId: 'a', n });
    // Redis hands published events to live subscribers later: let them pass first, so that
    // they reach the resumed subscriber through its replay, not live (a loaded suite caught
    // up to `missed` of them arriving live, past a buffer of 5).
    await new Promise((r) => setTimeout(r, 200));
    return watch(p, { after: eventIdOf(start)! });
  };

  it('gives every event an id that grows within a tenant’s stream', async () => {
    const p = await pubsub();
    const it = watch(p);
    for (let n = 0; n < 5; n++) p.publish(T, { tenantId: 'a', n });
    const ids = (await take(it, 5)).map((e) => eventIdOf(e)!);
    expect(ids.every(Boolean)).toBe(true);
    expect([...ids].sort(byId)).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });

  it('replays what a subscriber missed after its last id, then live events, none twice', async () => {
    const p = await pubsub();
    const first = watch(p);
    for (let n = 0; n < 3; n++) p.publish(T, { tenantId: 'a', n });
    const seen = await take(first, 2);
    await first.return!();
    for (let n = 3; n < 6; n++) p.publish(T, { tenantId: 'a', n });
    p.publish(T, { tenantId: 'b', n: 99 }); // another tenant's: never replayed
    p.publish(TOPICS.messageSent, { tenantId: 'a', n: 98 }); // another topic's: never replayed
    const resumed = watch(p, { after: eventIdOf(seen[1])! });
    expect((await take(resumed, 4)).map((e) => e.n)).toEqual([2, 3, 4, 5]);
    p.publish(T, { tenantId: 'a', n: 6 });
    expect((await take(resumed, 1)).map((e) => e.n)).toEqual([6]);
  });

  it('replays through the subscriber’s filter', async () => {
    const p = await pubsub();
    const first = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [start] = await take(first, 1);
    for (let n = 1; n < 7; n++) p.publish(T, { tenantId: 'a', n });
    const even = watch(p, { after: eventIdOf(start)!, filter: (e) => (e as Note).n % 2 === 0 });
    expect((await take(even, 3)).map((e) => e.n)).toEqual([2, 4, 6]);
  });

  it('resumes with no gap and no duplicate while events are being published', async () => {
    const p = await pubsub(1000);
    const all = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [start] = await take(all, 1);
    let n = 1;
    const publishing = setInterval(() => {
      for (let i = 0; i < 5 && n <= 200; i++) p.publish(T, { tenantId: 'a', n: n++ });
    }, 1);
    const resumed = watch(p, { after: eventIdOf(start)! });
    const got = await take(resumed, 200);
    clearInterval(publishing);
    expect(got.map((e) => e.n)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  // A walk of 2026-12-06: with EVENT_REPLAY_EVENTS above WS_MAX_BUFFERED_EVENTS (or Redis's
  // approximate trimming keeping a few more), resuming ended at once with LIMIT_EXCEEDED, and
  // "subscribe again" gave the same answer: the replay filled the live events' buffer.
  it('replays every kept event it missed, more than its buffer holds of live ones', async () => {
    const p = await pubsub(50, 5);
    const resumed = await resumedAfterMissing(p, 20);
    expect((await take(resumed, 20)).map((e) => e.n)).toEqual(range(1, 20));
    p.publish(T, { tenantId: 'a', n: 21 });
    expect((await take(resumed, 1)).map((e) => e.n)).toEqual([21]);
  });

  it('gives a subscriber ended for falling behind what it missed when it resumes', async () => {
    const p = await pubsub(50, 3);
    const slow = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [last] = await take(slow, 1);
    for (let n = 1; n <= 10; n++) p.publish(T, { tenantId: 'a', n });
    await new Promise((r) => setTimeout(r, 200)); // delivered, unread
    const ended = await slow.next().then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(ended?.message).toMatch(/subscribe again with "after" set to the last eventId/);
    const resumed = watch(p, { after: eventIdOf(last)! });
    expect((await take(resumed, 10)).map((e) => e.n)).toEqual(range(1, 10));
  });

  it('still ends a resumed subscriber whose live events pass its buffer', async () => {
    const p = await pubsub(50, 5);
    const resumed = await resumedAfterMissing(p, 20);
    await take(resumed, 1); // the replay has loaded; its other 19 wait unread
    for (let n = 21; n <= 30; n++) p.publish(T, { tenantId: 'a', n });
    await new Promise((r) => setTimeout(r, 200));
    const got: number[] = [];
    const ended = await (async () => {
      for (;;) got.push(((await resumed.next()).value as Note).n);
    })().catch((err: unknown) => err);
    expect(ended).toMatchObject({
      extensions: { code: 'LIMIT_EXCEEDED', limit: 'bufferedEvents' },
    });
    expect(got).toEqual([]); // its buffer is dropped with it
  });

  it('refuses an id whose successors are no longer kept with EVENT_TOO_OLD', async () => {
    const p = await pubsub(10);
    const first = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [start] = await take(first, 1);
    for (let n = 1; n < 400; n++) p.publish(T, { tenantId: 'a', n });
    await take(first, 399);
    await expect(watch(p, { after: eventIdOf(start)! }).next()).rejects.toMatchObject({
      code: 'EVENT_TOO_OLD',
      extensions: { code: 'EVENT_TOO_OLD' },
    });
  });

  // README walk: an id from the future was answered "the events after it are no longer kept".
  it('refuses an id ahead of the newest event with BAD_USER_INPUT saying so', async () => {
    const p = await pubsub();
    const first = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [newest] = await take(first, 1);
    const [ms, seq] = eventIdOf(newest)!.split('-');
    for (const after of ['99999999999999-1', `${ms}-${Number(seq) + 1}`]) {
      const refused = (async () => watch(p, { after }).next())();
      await expect(refused, after).rejects.toMatchObject({
        message: expect.stringMatching(
          `^Cannot resume after event "${after}": it is ahead of the newest event`,
        ),
        extensions: { code: 'BAD_USER_INPUT', after },
      });
    }
    // A tenant with no event yet: the bus cannot compare, but an id from the future is none.
    const fresh = p.subscribe(T, { tenantId: 'fresh', after: '99999999999999-1' });
    await expect((async () => fresh.next())()).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('keeps tokens in a stream of their own, so they never push events out', async () => {
    const p = await pubsub(10);
    const first = watch(p);
    p.publish(T, { tenantId: 'a', n: 0 });
    const [start] = await take(first, 1);
    const tokens = p.subscribe(TOPICS.stepToken, { tenantId: 'a' });
    for (let n = 0; n < 300; n++) p.publish(TOPICS.stepToken, { tenantId: 'a', n });
    await take(tokens, 300);
    p.publish(T, { tenantId: 'a', n: 1 });
    const resumed = watch(p, { after: eventIdOf(start)! });
    expect((await take(resumed, 1)).map((e) => e.n)).toEqual([1]);
  });

  it('refuses an `after` that is not an event id with BAD_USER_INPUT', async () => {
    const p = await pubsub();
    expect(() => watch(p, { after: 'yesterday' })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
    expect(p.subscriberCount(T)).toBe(0);
  });

  // A walk of 2026-12-06: a 100 KB `after` came back twice (message and extensions), 200 KB.
  it('repeats only the start of a huge `after` in its refusal', async () => {
    const p = await pubsub();
    let refusal: { message: string; extensions: Record<string, unknown> } | undefined;
    try {
      watch(p, { after: 'x'.repeat(100_000) });
    } catch (err) {
      refusal = err as typeof refusal;
    }
    expect(refusal?.message).toContain('… (100000 characters)');
    expect(JSON.stringify(refusal).length).toBeLessThan(1000);
  });
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const byId = (a: string, b: string) => {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
};
