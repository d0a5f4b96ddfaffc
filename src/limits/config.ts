import { z } from 'zod';
import { defaultMaxConnections } from '../../graph/graph.js';
import { wholeNumber } from '../config/env-number.js';
import { timerMs } from '../config/timer-ms.js';

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
  /** Requests per minute of one tenant across all its API keys; bursts up to this many. */
  tenantRateLimitPerMinute: number;
  /** Requests of one tenant running at once (per API instance); more wait their turn. */
  tenantMaxConcurrentRequests: number;
  /** Requests of one tenant waiting for a turn (per API instance); one more is refused. */
  tenantMaxQueuedRequests: number;
  /** A request that takes longer gets REQUEST_TIMEOUT. */
  requestTimeoutMs: number;
  /** Request bodies over this are refused with 413 before parsing. */
  maxBodyBytes: number;
  /** Live subscriptions on one WebSocket; one more gets LIMIT_EXCEEDED. */
  maxSubscriptionsPerSocket: number;
  /** Live subscriptions of one API key across its sockets (per API instance). */
  maxSubscriptionsPerKey: number;
  /** Live subscriptions of one tenant across its keys and sockets (per API instance). */
  maxSubscriptionsPerTenant: number;
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
  // Per-key limits add up with keys: six keys were six times the budget (a tenant's noise
  // made other tenants' requests ten times slower). A few keys' worth, then, for the tenant.
  tenantRateLimitPerMinute: 1200,
  // Half the default Neo4j pool (2 per core, at least 4): one tenant's burst waits its turn
  // instead of filling the pool for everyone. bench:tenant-noise, 2 cores: a quiet tenant's
  // p50 beside a noisy one was 455-953 ms without, 145 ms with 8, 73-97 ms with 4, 69-84 with 2
  // (the noisy tenant's throughput unchanged at 4, lower at 2).
  tenantMaxConcurrentRequests: Math.floor(defaultMaxConnections() / 2),
  tenantMaxQueuedRequests: 200,
  requestTimeoutMs: 15_000,
  maxBodyBytes: 10_000_000,
  // Issue 9: 5,000 subscriptions on one socket were accepted and slowed every tenant.
  maxSubscriptionsPerSocket: 100,
  maxSubscriptionsPerKey: 1000,
  maxSubscriptionsPerTenant: 3000,
  maxBufferedEvents: 1000,
  // A slow client holds a socket and a buffer; Node's own default waits 300 s (issue 9).
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
});

const count = () => wholeNumber(1, undefined, 'must be a whole number greater than 0');
const positiveInt = (fallback: number) => count().default(fallback);

/**
 * The environment variables for the limits, each optional with its default from
 * DEFAULT_LIMITS. Meant to be spread into src/config/config.ts's env schema
 * (`z.object({ ...existing, ...limitsEnvSchema.shape })`); messages read after the
 * variable's name, e.g. "MAX_QUERY_DEPTH must be a whole number greater than 0".
 */
export const limitsEnvSchema = z.object({
  MAX_QUERY_DEPTH: positiveInt(DEFAULT_LIMITS.maxDepth),
  MAX_QUERY_COMPLEXITY: positiveInt(DEFAULT_LIMITS.maxComplexity),
  MAX_QUERY_ALIASES: positiveInt(DEFAULT_LIMITS.maxAliases),
  MAX_QUERY_TOKENS: positiveInt(DEFAULT_LIMITS.maxTokens),
  RATE_LIMIT_PER_MINUTE: positiveInt(DEFAULT_LIMITS.rateLimitPerMinute),
  TENANT_RATE_LIMIT_PER_MINUTE: positiveInt(DEFAULT_LIMITS.tenantRateLimitPerMinute),
  // Unset: half the pool, NEO4J_MAX_CONNECTIONS's when that is set (limitsFromEnv).
  TENANT_MAX_CONCURRENT_REQUESTS: count().optional(),
  TENANT_MAX_QUEUED_REQUESTS: positiveInt(DEFAULT_LIMITS.tenantMaxQueuedRequests),
  REQUEST_TIMEOUT_MS: timerMs(1).default(DEFAULT_LIMITS.requestTimeoutMs),
  MAX_BODY_BYTES: positiveInt(DEFAULT_LIMITS.maxBodyBytes),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt(DEFAULT_LIMITS.maxSubscriptionsPerSocket),
  WS_MAX_SUBSCRIPTIONS_PER_KEY: positiveInt(DEFAULT_LIMITS.maxSubscriptionsPerKey),
  TENANT_MAX_SUBSCRIPTIONS: positiveInt(DEFAULT_LIMITS.maxSubscriptionsPerTenant),
  WS_MAX_BUFFERED_EVENTS: positiveInt(DEFAULT_LIMITS.maxBufferedEvents),
  REQUEST_HEADERS_TIMEOUT_MS: timerMs(1).default(DEFAULT_LIMITS.headersTimeoutMs),
  REQUEST_BODY_TIMEOUT_MS: timerMs(1).default(DEFAULT_LIMITS.bodyTimeoutMs),
});

export type LimitsEnv = z.infer<typeof limitsEnvSchema>;

/**
 * Maps parsed environment variables (limitsEnvSchema's output) to a LimitsConfig; a tenant's
 * turns default to half of `maxConnections` (NEO4J_MAX_CONNECTIONS) when it is given.
 */
export function limitsFromEnv(parsed: LimitsEnv, maxConnections?: number): LimitsConfig {
  const halfPool =
    maxConnections === undefined ? null : Math.max(1, Math.floor(maxConnections / 2));
  return {
    maxDepth: parsed.MAX_QUERY_DEPTH,
    maxComplexity: parsed.MAX_QUERY_COMPLEXITY,
    maxAliases: parsed.MAX_QUERY_ALIASES,
    maxTokens: parsed.MAX_QUERY_TOKENS,
    rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    tenantRateLimitPerMinute: parsed.TENANT_RATE_LIMIT_PER_MINUTE,
    tenantMaxConcurrentRequests:
      parsed.TENANT_MAX_CONCURRENT_REQUESTS ??
      halfPool ??
      DEFAULT_LIMITS.tenantMaxConcurrentRequests,
    tenantMaxQueuedRequests: parsed.TENANT_MAX_QUEUED_REQUESTS,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    maxBodyBytes: parsed.MAX_BODY_BYTES,
    maxSubscriptionsPerSocket: parsed.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxSubscriptionsPerKey: parsed.WS_MAX_SUBSCRIPTIONS_PER_KEY,
    maxSubscriptionsPerTenant: parsed.TENANT_MAX_SUBSCRIPTIONS,
    maxBufferedEvents: parsed.WS_MAX_BUFFERED_EVENTS,
    headersTimeoutMs: parsed.REQUEST_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: parsed.REQUEST_BODY_TIMEOUT_MS,
  };
}
