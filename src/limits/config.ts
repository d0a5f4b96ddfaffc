import { z } from 'zod';
import { timerMs } from '../timer-ms.js';

/** The limits against abuse: every request (HTTP or graphql-ws) is held to these. */
export interface LimitsConfig {
  /** Deepest field nesting, counted through fragments: `{ a { b } }` has depth 2. */
  maxDepth: number;
  /** Estimated cost, see complexity.ts: each field 1, lists times their `first`. */
  maxComplexity: number;
  /** Aliased fields in a document, each fragment counted once per spread. */
  maxAliases: number;
  /** Lexical tokens in a document; parsing stops at the first one over. */
  maxTokens: number;
  /** Requests per minute per key (API key or client address); bursts up to this many. */
  rateLimitPerMinute: number;
  /** A request that takes longer gets REQUEST_TIMEOUT. */
  requestTimeoutMs: number;
  /** Request bodies over this are refused with 413 before parsing. */
  maxBodyBytes: number;
  /** Live subscriptions on one WebSocket; one more gets LIMIT_EXCEEDED. */
  maxSubscriptionsPerSocket: number;
  /** Live subscriptions of one API key across its sockets (per API instance). */
  maxSubscriptionsPerKey: number;
  /** Events waiting to be sent to one subscription; one more ends it with LIMIT_EXCEEDED. */
  maxBufferedEvents: number;
  /** Time allowed to receive a request's headers; then Node answers 408 and closes. */
  headersTimeoutMs: number;
  /** Time allowed to receive a request's body once its headers are in; then 408. */
  bodyTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<LimitsConfig> = Object.freeze({
  maxDepth: 10,
  // About one unit per field resolved: 100 agents with 50 tasks each and a few fields fit.
  maxComplexity: 50_000,
  maxAliases: 30,
  maxTokens: 5000,
  rateLimitPerMinute: 300,
  requestTimeoutMs: 15_000,
  maxBodyBytes: 10_000_000,
  // Issue 9: 5,000 subscriptions on one socket were accepted and slowed every tenant.
  maxSubscriptionsPerSocket: 100,
  maxSubscriptionsPerKey: 1000,
  maxBufferedEvents: 1000,
  // A slow client holds a socket and a buffer; Node's own default waits 300 s (issue 9).
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
});

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number greater than 0' })
    .int('must be a whole number greater than 0')
    .positive('must be a whole number greater than 0')
    .max(Number.MAX_SAFE_INTEGER, `must be at most ${Number.MAX_SAFE_INTEGER}`)
    .default(fallback);

/**
 * The environment variables for the limits, each optional with its default from
 * DEFAULT_LIMITS. Meant to be spread into src/config.ts's env schema
 * (`z.object({ ...existing, ...limitsEnvSchema.shape })`); messages read after the
 * variable's name, e.g. "MAX_QUERY_DEPTH must be a whole number greater than 0".
 */
export const limitsEnvSchema = z.object({
  MAX_QUERY_DEPTH: positiveInt(DEFAULT_LIMITS.maxDepth),
  MAX_QUERY_COMPLEXITY: positiveInt(DEFAULT_LIMITS.maxComplexity),
  MAX_QUERY_ALIASES: positiveInt(DEFAULT_LIMITS.maxAliases),
  MAX_QUERY_TOKENS: positiveInt(DEFAULT_LIMITS.maxTokens),
  RATE_LIMIT_PER_MINUTE: positiveInt(DEFAULT_LIMITS.rateLimitPerMinute),
  REQUEST_TIMEOUT_MS: timerMs(1).default(DEFAULT_LIMITS.requestTimeoutMs),
  MAX_BODY_BYTES: positiveInt(DEFAULT_LIMITS.maxBodyBytes),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt(DEFAULT_LIMITS.maxSubscriptionsPerSocket),
  WS_MAX_SUBSCRIPTIONS_PER_KEY: positiveInt(DEFAULT_LIMITS.maxSubscriptionsPerKey),
  WS_MAX_BUFFERED_EVENTS: positiveInt(DEFAULT_LIMITS.maxBufferedEvents),
  REQUEST_HEADERS_TIMEOUT_MS: timerMs(1).default(DEFAULT_LIMITS.headersTimeoutMs),
  REQUEST_BODY_TIMEOUT_MS: timerMs(1).default(DEFAULT_LIMITS.bodyTimeoutMs),
});

export type LimitsEnv = z.infer<typeof limitsEnvSchema>;

/** Maps parsed environment variables (limitsEnvSchema's output) to a LimitsConfig. */
export function limitsFromEnv(parsed: LimitsEnv): LimitsConfig {
  return {
    maxDepth: parsed.MAX_QUERY_DEPTH,
    maxComplexity: parsed.MAX_QUERY_COMPLEXITY,
    maxAliases: parsed.MAX_QUERY_ALIASES,
    maxTokens: parsed.MAX_QUERY_TOKENS,
    rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    maxBodyBytes: parsed.MAX_BODY_BYTES,
    maxSubscriptionsPerSocket: parsed.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxSubscriptionsPerKey: parsed.WS_MAX_SUBSCRIPTIONS_PER_KEY,
    maxBufferedEvents: parsed.WS_MAX_BUFFERED_EVENTS,
    headersTimeoutMs: parsed.REQUEST_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: parsed.REQUEST_BODY_TIMEOUT_MS,
  };
}
