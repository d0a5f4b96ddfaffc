/**
 * Reading a failure through its causes, for the engine (is another try worth it? engine/
 * executor.ts) and the model metrics (which class of failure? llm/call-metrics.ts), so that
 * the two agree; every other reader of a chain (the graph's breaker, waits, budgets) uses
 * causeChain too, so none stops short or loops. Clients wrap what went wrong on the wire: OpenAI's says "Connection error.",
 * its cause fetch's "fetch failed", whose cause holds the socket's code (or none: a bad port).
 */

/** One error of a chain, as far as these readings look at it. */
export interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  status?: unknown;
  cause?: unknown;
}

/** `err` and its causes, outermost first: five at most, since a chain of causes may loop. */
export function causeChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  for (let e = err; e !== null && typeof e === 'object' && chain.length < 5;) {
    chain.push(e as ErrorLike);
    e = (e as ErrorLike).cause;
  }
  return chain;
}

/**
 * What the innermost of `err`'s causes says, its code (ECONNREFUSED) or else its message
 * (fetch's "bad port"): the why under a bare "fetch failed". Null when `err` has no cause.
 */
export function innermostReason(err: unknown): string | null {
  const chain = causeChain(err);
  if (chain.length < 2) return null;
  const root = chain[chain.length - 1]!;
  const said = typeof root.code === 'string' ? root.code : root.message;
  return typeof said === 'string' && said !== '' ? said : null;
}

/** The first error of `err`'s chain (itself, then its causes) that is a `type`, or null. */
export function causeOf<T>(err: unknown, type: abstract new (...args: never[]) => T): T | null {
  return (causeChain(err).find((e) => e instanceof type) as T | undefined) ?? null;
}

/** Codes of a request that ran out of time below its client: the socket's, undici's. */
const TIMEOUT_CODES = [
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
];

/**
 * Codes of a connection refused, reset or dropped mid-answer, or of a DNS server that did not
 * answer: another try may get through, unlike an unknown host or a refused certificate.
 */
const DROPPED_CODES = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET'];

/** Codes of any other failure to reach a server or hear it out: the socket's, DNS's, undici's. */
const CONNECTION_CODE = /^(ECONN|EAI_|UND_ERR_|ENOTFOUND$|EHOSTUNREACH$|ENETUNREACH$)/;

/**
 * What a network error code (of one error, not its causes) says: `timeout`, `dropped`
 * (refused, reset, cut: worth another try), `connection` (the rest: an unknown host, say), or
 * null when it is no network code.
 */
export function networkCode(code: unknown): 'timeout' | 'dropped' | 'connection' | null {
  if (typeof code !== 'string') return null;
  if (TIMEOUT_CODES.includes(code)) return 'timeout';
  if (DROPPED_CODES.includes(code)) return 'dropped';
  return CONNECTION_CODE.test(code) ? 'connection' : null;
}

/**
 * True for fetch's own network error, whatever its cause: "fetch failed" (also with no code:
 * a bad port, a TLS failure, a reply that is not HTTP) or "terminated" (the connection dropped
 * mid-answer).
 */
export function isFetchNetworkError(e: unknown): boolean {
  return e instanceof TypeError && (e.message === 'fetch failed' || e.message === 'terminated');
}
