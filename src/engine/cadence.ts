/**
 * A loop's "now and then" (a sweep every third of a lease, a poll every second), kept on the
 * monotonic clock: on `Date.now()` a wall clock stepped back (NTP, a virtual machine resumed)
 * held the sweeps off until it caught up, while leases of workers that died stayed taken.
 */
export class Cadence {
  private last = -Infinity;

  constructor(private readonly periodMs: number) {}

  /** True, and counts from now, when a period has passed since it last said true (at first). */
  due(): boolean {
    const now = performance.now();
    if (now - this.last < this.periodMs) return false;
    this.last = now;
    return true;
  }
}
