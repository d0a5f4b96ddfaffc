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

/**
 * How long the server that refused a call asked to be left alone, in ms (capped at `maxMs`):
 * the `retry-after-ms` or `retry-after` header (seconds or an HTTP date) of a 429 or 503 on the
 * error or its cause, as OpenAI's client keeps them; 0 when it named none.
 */
export function retryAfterMs(err: unknown, maxMs: number, nowMs = Date.now()): number {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { status, headers, cause } = e as {
      status?: unknown;
      headers?: unknown;
      cause?: unknown;
    };
    if ((status === 429 || status === 503) && headers && typeof headers === 'object') {
      const ms = headerMs(headers, nowMs);
      if (ms !== null) return Math.min(maxMs, ms);
    }
    e = cause;
  }
  return 0;
}

function headerMs(headers: object, nowMs: number): number | null {
  const get = (name: string): string | null => {
    const h = headers as { get?: (n: string) => string | null } & Record<string, unknown>;
    const value = typeof h.get === 'function' ? h.get(name) : h[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
  };
  const ms = Number(get('retry-after-ms'));
  if (get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const after = get('retry-after');
  if (after === null) return null;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const at = Date.parse(after);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
