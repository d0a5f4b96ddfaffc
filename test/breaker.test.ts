import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, isConnectivityError } from '../graph/breaker.js';
import { UnavailableError } from '../src/domain/errors.js';

function breaker() {
  let now = 0;
  const changes: string[] = [];
  const b = new CircuitBreaker({
    openMs: 1_000,
    maxOpenMs: 4_000,
    now: () => now,
    onChange: (s) => changes.push(s),
  });
  return { b, changes, advance: (ms: number) => (now += ms) };
}

const refusal = (b: CircuitBreaker) => {
  try {
    b.enter();
    return null;
  } catch (err) {
    return err as UnavailableError;
  }
};

describe('the Neo4j circuit breaker', () => {
  it('stays closed after one connectivity failure (a stale pooled connection) and opens on the second', () => {
    const { b, changes } = breaker();
    b.failed();
    expect(b.state).toBe('closed');
    expect(refusal(b)).toBeNull();
    b.failed();
    expect(b.state).toBe('open');
    expect(changes).toEqual(['open']);
    const err = refusal(b);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err?.code).toBe('SERVICE_UNAVAILABLE');
    expect(err?.details).toEqual({ retryAfterSeconds: 1 });
  });

  it('opens on the first failure that took seconds (a timeout, not a stale connection)', () => {
    const { b } = breaker();
    b.failed(true);
    expect(b.state).toBe('open');
  });

  it('lets one probe through after the open time, and refuses the rest meanwhile', () => {
    const { b, advance } = breaker();
    b.failed();
    b.failed();
    advance(999);
    expect(refusal(b)).not.toBeNull();
    advance(1);
    expect(refusal(b)).toBeNull(); // the probe
    expect(b.state).toBe('half-open');
    expect(refusal(b)).not.toBeNull();
  });

  it('doubles the open time after a failed probe, up to the maximum, and closes on success', () => {
    const { b, advance, changes } = breaker();
    b.failed();
    b.failed();
    for (const openMs of [2_000, 4_000, 4_000]) {
      advance(10_000);
      expect(refusal(b)).toBeNull();
      b.failed();
      expect(b.state).toBe('open');
      expect(b.retryAfterSeconds).toBe(openMs / 1000);
    }
    advance(10_000);
    expect(refusal(b)).toBeNull();
    b.succeeded();
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'closed']);
    // Closed again: the count starts over and the open time is back to the first.
    b.failed();
    expect(b.state).toBe('closed');
    b.failed();
    expect(b.retryAfterSeconds).toBe(1);
  });

  it('lets another probe through when a probe never reports (a slow query, a passed deadline)', () => {
    const { b, advance } = breaker();
    b.failed(true);
    advance(1_000);
    expect(refusal(b)).toBeNull(); // the probe, which then never calls succeeded() or failed()
    advance(4_999);
    expect(refusal(b)).toBeInstanceOf(UnavailableError);
    advance(1);
    expect(refusal(b)).toBeNull(); // a new probe
    b.succeeded();
    expect(b.state).toBe('closed');
  });

  it('counts only errors that say Neo4j could not be reached', () => {
    expect(isConnectivityError({ code: 'ServiceUnavailable' })).toBe(true);
    expect(isConnectivityError({ code: 'SessionExpired' })).toBe(true);
    expect(isConnectivityError(new UnavailableError('x'))).toBe(false);
    expect(
      isConnectivityError(Object.assign(new Error('x'), { cause: { code: 'ServiceUnavailable' } })),
    ).toBe(true);
    expect(isConnectivityError({ code: 'Neo.ClientError.Statement.SyntaxError' })).toBe(false);
    // A pool that timed out with connections in use is busy; with none at all, it could not connect.
    const acquisition = (active: number, idle: number) =>
      Object.assign(
        new Error(
          `Connection acquisition timed out in 5000 ms. Pool status: Active conn count = ${active}, Idle conn count = ${idle}.`,
        ),
        { code: 'N/A' },
      );
    expect(isConnectivityError(acquisition(100, 0))).toBe(false);
    expect(isConnectivityError(acquisition(0, 0))).toBe(true);
    expect(isConnectivityError(acquisition(10, 0))).toBe(false);
  });
  it("counts a connection failure wrapped two deep (the graph's own refusal over the driver's)", () => {
    // graph.ts: the breaker's refusal, over the session's translation, over the driver's error.
    const driver = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ServiceUnavailable' });
    const translated = Object.assign(new UnavailableError('x'), { cause: driver });
    const refused = Object.assign(new UnavailableError('y'), { cause: translated });
    expect(isConnectivityError(refused)).toBe(true);
    expect(isConnectivityError(new Error('z', { cause: refused }))).toBe(true);
  });

  it('keeps its open period on the monotonic clock: a wall clock stepped back does not prolong it', async () => {
    // A clock stepped back an hour (NTP, a virtual machine's clock set again) kept a breaker
    // timed on Date.now() open, answering SERVICE_UNAVAILABLE, until the clock caught up.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const b = new CircuitBreaker({ threshold: 1, openMs: 20 });
      b.failed();
      expect(b.state).toBe('open');
      vi.setSystemTime(Date.now() - 3_600_000);
      await new Promise((r) => setTimeout(r, 40));
      expect(refusal(b)).toBeNull();
      expect(b.state).toBe('half-open');
    } finally {
      vi.useRealTimers();
    }
  });
});
