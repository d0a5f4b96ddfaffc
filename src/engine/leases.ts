/**
 * Keeping the leases of the steps a scheduler runs. One statement renews them all (a heartbeat
 * a step was a write transaction every third of a lease for each running step: 100 a second
 * for 1,000 steps on a 30 s lease, the engine's own throughput again in writes that moved
 * nothing).
 */
import type { Logger } from '../logger.js';

/**
 * Renews the leases of these steps for this worker, in one transaction; returns the ids it
 * renewed. A step missing from the answer is no longer this worker's (ended, cancelled,
 * reassigned, or taken back by a sweep).
 */
export type RenewLeases = (taskIds: string[]) => Promise<Set<string>>;

interface Held {
  /**
   * When its lease was last taken or renewed (at or before the statement that did it), on the
   * monotonic clock (`performance.now()`): a wall clock stepped back during a renewal put the
   * next one off by the step, and the leases lapsed.
   */
  since: number;
  lost: () => void;
}

/**
 * The heartbeat of one scheduler's running steps. Contract: each step held is renewed within
 * a third of the lease (`periodMs`) of its claim or last renewal, at once if that is already
 * past (a claim that waited on locks starts with much of its lease spent); every renewal covers
 * every step held at that moment, so steps share one statement, and only one renewal is in
 * flight at a time. A step the renewal did not find is `lost` (its attempt aborts), once. A
 * renewal that fails is logged and tried again within a second or a period, whichever is
 * sooner; the steps stay held (a sweep takes them back once their lease expires).
 */
export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private due = Infinity;
  private renewing = false;

  constructor(
    private readonly periodMs: number,
    private readonly renew: RenewLeases,
    private readonly logger: Logger,
  ) {}

  /**
   * Holds a step's lease from `leasedAt` (`performance.now()`); returns what lets it go (only
   * this hold).
   */
  hold(taskId: string, leasedAt: number, lost: () => void): () => void {
    const entry: Held = { since: leasedAt, lost };
    this.held.set(taskId, entry);
    this.schedule(leasedAt + this.periodMs);
    return () => {
      if (this.held.get(taskId) === entry) this.held.delete(taskId);
      if (this.held.size === 0) this.clear();
    };
  }

  /** How many steps it holds. */
  get size(): number {
    return this.held.size;
  }

  /** Runs the next renewal at `at` unless one is already due sooner. */
  private schedule(at: number): void {
    if (this.renewing || at >= this.due) return;
    this.clear();
    this.due = at;
    this.timer = setTimeout(() => void this.beat(), Math.max(0, at - performance.now()));
  }

  private clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Infinity;
  }

  private async beat(): Promise<void> {
    this.clear();
    const entries = [...this.held];
    if (entries.length === 0) return;
    this.renewing = true;
    const startedAt = performance.now();
    let retryAt = 0;
    try {
      const renewed = await this.renew(entries.map(([id]) => id).sort());
      for (const [id, entry] of entries) {
        if (renewed.has(id)) entry.since = startedAt;
        else if (this.held.get(id) === entry) {
          this.held.delete(id);
          entry.lost();
        }
      }
    } catch (err) {
      this.logger.warn({ err, steps: entries.length }, 'heartbeat failed; retrying');
      retryAt = performance.now() + Math.min(1_000, this.periodMs);
    } finally {
      this.renewing = false;
    }
    if (this.held.size === 0) return;
    const due = Math.min(...[...this.held.values()].map((e) => e.since + this.periodMs));
    this.schedule(Math.max(due, retryAt));
  }
}
