import { causeChain } from '../src/domain/error-causes.js';
import { UnavailableError } from '../src/domain/errors.js';

export interface BreakerOptions {
  /** Consecutive connectivity failures that open the breaker (one stale pooled connection is not an outage). */
  threshold?: number;
  /** How long the breaker stays open after opening; doubles per failed probe. */
  openMs?: number;
  /** The longest it stays open between probes. */
  maxOpenMs?: number;
  /** A probe that has not ended after this long (a slow query, a request deadline) gives way to another. */
  probeMs?: number;
  now?: () => number;
  /** Told when the breaker opens (not on each failed probe) and when it closes again. */
  onChange?: (state: 'open' | 'closed') => void;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker in front of Neo4j. While Neo4j is unreachable every request would wait
 * for a connection and fail anyway (issue 9: 15 s per request); an open breaker fails it at
 * once with SERVICE_UNAVAILABLE and a `retryAfterSeconds`. After `openMs` one call is let
 * through as a probe (half-open): success closes the breaker, failure opens it again for
 * twice as long (up to `maxOpenMs`). Only connectivity failures count; a query error proves
 * Neo4j is there.
 */
export class CircuitBreaker {
  private state_: BreakerState = 'closed';
  private openUntil = 0;
  private openMs: number;
  private failures = 0;
  private probeStartedAt = 0;
  private readonly probeMs: number;
  private readonly threshold: number;
  private readonly firstOpenMs: number;
  private readonly maxOpenMs: number;
  private readonly now: () => number;
  private readonly onChange: (state: 'open' | 'closed') => void;

  constructor(options: BreakerOptions = {}) {
    this.threshold = options.threshold ?? 2;
    this.firstOpenMs = options.openMs ?? 1_000;
    this.maxOpenMs = options.maxOpenMs ?? 10_000;
    this.openMs = this.firstOpenMs;
    this.probeMs = options.probeMs ?? 5_000;
    // Monotonic: a wall clock stepped back would keep the breaker open until it caught up.
    this.now = options.now ?? (() => performance.now());
    this.onChange = options.onChange ?? (() => {});
  }

  get state(): BreakerState {
    return this.state_;
  }

  /** Whole seconds until the next probe (at least 1). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openUntil - this.now()) / 1000));
  }

  /** Throws SERVICE_UNAVAILABLE while open; lets one probe through once `openMs` has passed. */
  enter(): void {
    if (this.state_ === 'closed') return;
    const now = this.now();
    const due =
      this.state_ === 'open'
        ? now >= this.openUntil
        : // A probe that never reports (it was a slow query, or its request's deadline passed)
          // must not keep a recovered Neo4j refusing everyone.
          now - this.probeStartedAt >= this.probeMs;
    if (!due) throw this.unavailable();
    this.state_ = 'half-open';
    this.probeStartedAt = now; // this caller is the probe
  }

  /** Neo4j answered (even with an error of the query): close. */
  succeeded(): void {
    if (this.state_ !== 'closed') this.onChange('closed');
    this.state_ = 'closed';
    this.failures = 0;
    this.openMs = this.firstOpenMs;
  }

  /**
   * Neo4j could not be reached: open, or stay open longer after a failed probe. `slow` (the
   * call waited seconds to fail: a timeout, not a stale connection) opens it at once.
   */
  failed(slow = false): void {
    this.failures++;
    if (this.state_ === 'closed' && this.failures < this.threshold && !slow) return;
    if (this.state_ === 'half-open') this.openMs = Math.min(this.maxOpenMs, this.openMs * 2);
    // Calls that were already running when the breaker opened must not push the probe back.
    if (this.state_ === 'open') return;
    if (this.state_ === 'closed') this.onChange('open');
    this.state_ = 'open';
    this.openUntil = this.now() + this.openMs;
  }

  unavailable(): UnavailableError {
    return new UnavailableError(
      `The graph database is not reachable right now; retry in ${this.retryAfterSeconds} s`,
      { retryAfterSeconds: this.retryAfterSeconds },
    );
  }
}

/**
 * True for errors that say Neo4j could not be reached (as opposed to a query that failed). A
 * pool acquisition timeout is one only when the pool had no connection at all, in use or idle:
 * it spent the whole time failing to make one (a connect that hangs after TCP, e.g. behind a
 * proxy during a partition). With connections in use it means busy; the breaker would not help.
 * Read through the causes: the graph's own refusal wraps the session's, which wraps the driver's.
 */
export function isConnectivityError(err: unknown): boolean {
  return causeChain(err).some(
    (e) => e.code === 'ServiceUnavailable' || e.code === 'SessionExpired' || isUnreachablePool(e),
  );
}

/** The driver's acquisition timeout while the pool holds no connection at all. */
export function isUnreachablePool(err: unknown): boolean {
  const message = String((err as { message?: unknown }).message ?? '');
  return (
    message.startsWith('Connection acquisition timed out') &&
    /Active conn count = 0, Idle conn count = 0\b/.test(message)
  );
}
