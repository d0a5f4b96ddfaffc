export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/**
 * Exponential backoff with jitter: attempt n waits base * 2^(n-1), capped at max, then scaled
 * by a random factor in [0.5, 1) so that failed steps do not retry in lockstep.
 */
export function backoffMs(
  attempt: number,
  { baseMs, maxMs, random = Math.random }: BackoffOptions,
) {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + random() / 2));
}
