const MINUTE_MS = 60_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

export interface TakeResult {
  allowed: boolean;
  /** 0 when allowed; otherwise whole seconds until one request is allowed again (>= 1). */
  retryAfterSeconds: number;
}

export interface RateLimiterOptions {
  /** Most keys remembered; past it the least recently used bucket goes. Default 100,000. */
  maxKeys?: number;
}

/**
 * A token bucket per key: up to `perMinute` requests at once, refilled continuously at
 * `perMinute` per minute. Memory stays bounded: buckets that have been full for over a minute
 * are dropped (checked lazily, at most once a minute), and past `maxKeys` keys the least
 * recently used goes. A dropped bucket comes back full, which is what it was anyway.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxKeys: number;
  private lastSweep: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
    options: RateLimiterOptions = {},
  ) {
    if (!Number.isFinite(perMinute) || perMinute <= 0) {
      throw new RangeError(`perMinute must be a number greater than 0, but got ${perMinute}`);
    }
    this.maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError(
        `maxKeys must be a whole number greater than 0, but got ${this.maxKeys}`,
      );
    }
    this.perMs = perMinute / MINUTE_MS;
    this.lastSweep = now();
  }

  /** Spends one request for `key` if it has one left. */
  take(key: string): TakeResult {
    const now = this.now();
    if (now - this.lastSweep >= MINUTE_MS) this.sweep(now);
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = this.level(bucket, now);
      bucket.at = now;
      // Re-insert so the Map's order is least recently used first.
      this.buckets.delete(key);
    } else {
      bucket = { tokens: this.perMinute, at: now };
      while (this.buckets.size >= this.maxKeys) {
        this.buckets.delete(this.buckets.keys().next().value!);
      }
    }
    this.buckets.set(key, bucket);
    // A hair of slack so float error in the refill never turns a whole token into 0.9999.
    if (bucket.tokens >= 1 - 1e-9) {
      bucket.tokens = Math.max(0, bucket.tokens - 1);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const waitMs = (1 - bucket.tokens) / this.perMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /**
   * Whether `take(key)` would be allowed now, without spending anything: lets a caller refuse
   * before doing work it only pays for on failure (a key lookup for a bad key).
   */
  peek(key: string): TakeResult {
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.level(bucket, this.now()) : this.perMinute;
    if (tokens >= 1 - 1e-9) return { allowed: true, retryAfterSeconds: 0 };
    const waitMs = (1 - tokens) / this.perMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** How many keys are remembered now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private level(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.at);
    return Math.min(this.perMinute, bucket.tokens + elapsed * this.perMs);
  }

  /** Drops buckets that have been full for over a minute. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      const fullAt = bucket.at + (this.perMinute - bucket.tokens) / this.perMs;
      if (now - fullAt > MINUTE_MS) this.buckets.delete(key);
    }
  }
}
