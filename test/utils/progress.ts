/**
 * Waiting for work that a loaded machine may do slowly but must keep doing: a wait fails when
 * the observed state has not changed for `stallMs` (the engine stalled), not after a fixed total
 * time (two copies of the suite on 2 cores made 200 healthy steps take over a minute). The
 * test's own timeout stays the backstop for work that changes forever without finishing.
 */
export async function untilDone<T>(o: {
  read: () => Promise<T>;
  done: (value: T) => boolean;
  /** What counts as progress: any change of this string resets the stall clock. */
  progress: (value: T) => string;
  stallMs: number;
  what: string;
  everyMs?: number;
}): Promise<T> {
  let last = '';
  let changedAt = performance.now();
  for (;;) {
    const value = await o.read();
    if (o.done(value)) return value;
    const now = performance.now();
    const seen = o.progress(value);
    if (seen !== last) {
      last = seen;
      changedAt = now;
    } else if (now - changedAt > o.stallMs) {
      throw new Error(`${o.what}: no progress for ${o.stallMs} ms`);
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
}
