import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from '../src/engine/leases.js';
import { createLogger } from '../src/logger.js';

/** A renewal that answers when the test says, with the ids it is told to keep. */
function renewals() {
  const calls: string[][] = [];
  let answer: (ids: string[]) => Set<string> | Promise<Set<string>> = (ids) => new Set(ids);
  const renew = vi.fn(async (ids: string[]) => {
    calls.push(ids);
    return answer(ids);
  });
  return {
    calls,
    renew,
    answerWith(f: typeof answer) {
      answer = f;
    },
  };
}

const PERIOD = 300;

/** A keeper holding step 'a' whose first renewal is in flight until `release()` answers it. */
async function renewingOne() {
  const r = renewals();
  let answerFirst!: () => void;
  r.answerWith((ids) => new Promise((done) => (answerFirst = () => done(new Set(ids)))));
  const keeper = new LeaseKeeper(PERIOD, r.renew, createLogger('silent'));
  keeper.hold('a', performance.now(), () => {});
  await vi.advanceTimersByTimeAsync(PERIOD);
  const release = () => {
    r.answerWith((ids) => new Set(ids)); // the renewals after it answer at once
    answerFirst();
  };
  return { r, keeper, release };
}

describe('the lease keeper', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());
  const logger = createLogger('silent');

  it('renews every step it holds with one call, a period after the earliest lease', async () => {
    const r = renewals();
    const keeper = new LeaseKeeper(PERIOD, r.renew, logger);
    const t0 = performance.now();
    keeper.hold('b', t0, () => {});
    await vi.advanceTimersByTimeAsync(100);
    keeper.hold('a', performance.now(), () => {});
    keeper.hold('c', performance.now(), () => {});
    await vi.advanceTimersByTimeAsync(199);
    expect(r.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.calls).toEqual([['a', 'b', 'c']]);
    // Renewed together, due together: one call a period, however many steps run.
    await vi.advanceTimersByTimeAsync(PERIOD * 3);
    expect(r.calls).toEqual(Array(4).fill(['a', 'b', 'c']));
  });

  it('renews at once a step whose claim already spent a period of its lease', async () => {
    const r = renewals();
    const keeper = new LeaseKeeper(PERIOD, r.renew, logger);
    keeper.hold('late', performance.now() - 2 * PERIOD, () => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual([['late']]);
  });

  it('lets go of a step the renewal did not find, once, and keeps the others', async () => {
    const r = renewals();
    const keeper = new LeaseKeeper(PERIOD, r.renew, logger);
    const lost: string[] = [];
    for (const id of ['a', 'b']) keeper.hold(id, performance.now(), () => lost.push(id));
    r.answerWith((ids) => new Set(ids.filter((id) => id !== 'a')));
    await vi.advanceTimersByTimeAsync(PERIOD * 3);
    expect(lost).toEqual(['a']);
    expect(r.calls).toEqual([['a', 'b'], ['b'], ['b']]);
    expect(keeper.size).toBe(1);
  });

  it('stops renewing a step it was told to let go, and a stale release keeps the next hold', async () => {
    const r = renewals();
    const keeper = new LeaseKeeper(PERIOD, r.renew, logger);
    const first = keeper.hold('a', performance.now(), () => {});
    keeper.hold('a', performance.now(), () => {}); // claimed again while the first attempt winds down
    first();
    expect(keeper.size).toBe(1);
    const other = keeper.hold('b', performance.now(), () => {});
    await vi.advanceTimersByTimeAsync(PERIOD);
    other();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(r.calls).toEqual([['a', 'b'], ['a']]);
  });

  it('sends nothing while it holds nothing', async () => {
    const r = renewals();
    const keeper = new LeaseKeeper(PERIOD, r.renew, logger);
    keeper.hold('a', performance.now(), () => {})();
    await vi.advanceTimersByTimeAsync(PERIOD * 10);
    expect(r.calls).toEqual([]);
  });

  it('has one renewal in flight at a time, and the steps held meanwhile join the next', async () => {
    const { r, keeper, release } = await renewingOne();
    keeper.hold('b', performance.now() - 2 * PERIOD, () => {}); // due at once, but one is in flight
    await vi.advanceTimersByTimeAsync(PERIOD * 5);
    expect(r.calls).toEqual([['a']]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual([['a'], ['a', 'b']]);
  });

  it('retries a failed renewal within a second, not in a loop, and keeps its steps', async () => {
    const r = renewals();
    const lost: string[] = [];
    r.answerWith(() => Promise.reject(new Error('the graph is unavailable')));
    const period = 3_000;
    const keeper = new LeaseKeeper(period, r.renew, logger);
    keeper.hold('a', performance.now(), () => lost.push('a'));
    await vi.advanceTimersByTimeAsync(period);
    expect(r.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(r.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.calls).toHaveLength(2);
    r.answerWith((ids) => new Set(ids));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.calls).toHaveLength(3);
    // Renewed: the next comes a whole period later.
    await vi.advanceTimersByTimeAsync(period - 1);
    expect(r.calls).toHaveLength(3);
    expect(lost).toEqual([]);
    expect(keeper.size).toBe(1);
  });

  it('keeps its period on the monotonic clock when the wall clock steps back mid-renewal', async () => {
    const { r, keeper, release } = await renewingOne();
    expect(r.calls).toHaveLength(1);
    // NTP steps the clock back an hour while the renewal is in flight: on the wall clock the
    // next renewal was due an hour and a period later, and the lease lapsed long before.
    vi.setSystemTime(Date.now() - 3_600_000);
    release();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(r.calls).toHaveLength(2);
  });
});
