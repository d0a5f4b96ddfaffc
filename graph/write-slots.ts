/**
 * Slots taken in order: at most `size` holders at once, the others wait their turn (FIFO).
 *
 * Contract: slots are granted in the order they were asked for, urgent ones before all
 * others; a wait longer than `waitMs` fails with `timedOut(waitMs)`; a slot is released
 * exactly once. Used for write transactions (WriteSlots) and a tenant's requests in flight
 * (src/limits/tenant-slots.ts).
 */
export class Slots {
  private used = 0;
  /** Urgent waiters first (the first `urgentWaiting`), then the others, each in order. */
  private readonly waiting: (() => void)[] = [];
  private urgentWaiting = 0;

  constructor(
    readonly size: number,
    private readonly timedOut: (waitMs: number) => Error,
  ) {}

  /**
   * Resolves with the slot's release once one is free; rejects after `waitMs`, or with
   * `signal`'s reason once it aborts (the waiter gave up: its place goes to the next).
   */
  acquire(
    waitMs: number,
    { urgent = false, signal }: { urgent?: boolean; signal?: AbortSignal } = {},
  ): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        resolve(this.releaser());
      };
      const leave = (err: unknown) => {
        const at = this.waiting.indexOf(grant);
        if (at < 0) return; // granted meanwhile
        this.waiting.splice(at, 1);
        if (at < this.urgentWaiting) this.urgentWaiting--;
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        reject(err);
      };
      const giveUp = () => leave(signal!.reason);
      const timer = setTimeout(() => leave(this.timedOut(waitMs)), waitMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      if (urgent) this.waiting.splice(this.urgentWaiting++, 0, grant);
      else this.waiting.push(grant);
    });
  }

  /** Holders of a slot now. */
  get inUse(): number {
    return this.used;
  }

  /** Waiting for a slot (for write slots: the metrics' gauge). */
  get queued(): number {
    return this.waiting.length;
  }

  /** A released slot goes straight to the longest waiter, so `used` never drops below the demand. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (this.urgentWaiting > 0) this.urgentWaiting--;
      if (next) next();
      else this.used--;
    };
  }
}

/**
 * How many write transactions of this process hold a pooled connection at once. The pool is
 * shared by reads and writes, and the driver hands out connections first come, first served:
 * a burst of mutations (200 submitTask at once) or a busy engine took every connection, and a
 * simple query waited behind all of them (bench:agents: p99 199 ms, 3.5 s with the engine in
 * the API's process). Writes past the slots wait here, in order, so some connections always
 * remain for reads. Urgent ones (heartbeats: a lease that lapses behind a queue of step writes
 * loses its step) go first; a wait past `waitMs` fails with the same "busy" error as the
 * driver's own acquisition timeout (Graph retries it until the request's deadline, then
 * answers 503).
 */
export class WriteSlots extends Slots {
  constructor(size: number) {
    super(size, (waitMs) => {
      const message = `Connection acquisition timed out in ${waitMs} ms: all ${size} write slots of this process are in use`;
      // The driver's code for errors of its own, so it is translated like the driver's.
      return Object.assign(new Error(message), { code: 'N/A' });
    });
  }
}

/**
 * Write slots for a pool of `maxConnections`: a quarter of the connections, at least two but
 * never more than half, stay for reads (16 → 12 slots; 1 → 1).
 */
export function writeSlotsFor(maxConnections: number): number {
  const reserved = Math.min(
    Math.floor(maxConnections / 2),
    Math.max(2, Math.floor(maxConnections / 4)),
  );
  return maxConnections - reserved;
}
