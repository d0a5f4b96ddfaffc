import { GraphQLError, type ExecutionResult } from 'graphql';
import { requestTimeLeft } from '../../graph/deadline.js';
import type { Principal } from '../domain/auth.js';
import { AppError, UnauthenticatedError } from '../domain/errors.js';
import { keyRefusal } from './error-status.js';
import { limitGraphQLError, rateLimitedError, type LimitsConfig } from '../limits/index.js';
import type { RateLimit } from '../limits/shared-rate-limiter.js';
import { TenantSlots } from '../limits/tenant-slots.js';
import { metrics } from '../metrics/metrics.js';
import type { Services } from '../services/index.js';

/**
 * A queued request gives up its wait this long before its deadline, so the client hears that
 * it waited for its tenant's turn rather than a bare REQUEST_TIMEOUT.
 */
const DEADLINE_MARGIN_MS = 50;

export interface RequestBudgetsOptions {
  limits: LimitsConfig;
  auth: Services['auth'];
  /** Requests per minute per API key, or per address without one (RATE_LIMIT_PER_MINUTE). */
  keyRate: RateLimit;
  /** Requests per minute per tenant across its keys (TENANT_RATE_LIMIT_PER_MINUTE). */
  tenantRate: RateLimit;
}

/**
 * What every request of the API spends before it runs: its key's (or address's) rate, its
 * tenant's rate, and one of its tenant's slots on this instance. Refusals are GraphQLErrors
 * with the HTTP status in extensions.http, as Apollo, /mcp and /a2a answer them.
 */
export function requestBudgets(opts: RequestBudgetsOptions) {
  const { limits, auth, keyRate, tenantRate } = opts;
  const slots = new TenantSlots(limits.tenantMaxConcurrentRequests, limits.tenantMaxQueuedRequests);

  /** Refuses with a typed error once the key (or, without one, the address) is over its rate. */
  const takeRate = async (key: string, status: number) => {
    const tenant = key.startsWith('tenant:');
    const { allowed, retryAfterSeconds } = await (tenant ? tenantRate : keyRate).take(key);
    if (allowed) return;
    metrics.limits.rateLimited.inc({ scope: key.slice(0, key.indexOf(':')) });
    const err = tenant
      ? rateLimitedError(limits.tenantRateLimitPerMinute, retryAfterSeconds, 'tenant')
      : rateLimitedError(limits.rateLimitPerMinute, retryAfterSeconds);
    throw new GraphQLError(err.message, {
      extensions: { ...err.details, code: err.code, http: { status } },
    });
  };

  const acquire = async (tenantId: string, signal?: AbortSignal) => {
    const left = requestTimeLeft() ?? limits.requestTimeoutMs;
    try {
      return await slots.acquire(tenantId, left - DEADLINE_MARGIN_MS, signal);
    } catch (err) {
      if (err instanceof AppError) metrics.limits.rateLimited.inc({ scope: 'tenant_in_flight' });
      throw err;
    }
  };

  return {
    slots,
    takeRate,

    /**
     * Failed authentications spend a bucket of their address's own: once it is empty, an
     * unknown key from that address is refused before it is looked up (issue 9: 400 bad keys
     * were 400 lookups, no 429). Keys that authenticated recently and keyless requests are not
     * counted against it, so one client's bad keys do not lock out others behind the same NAT.
     */
    async authenticate(credential: unknown, operation: string, address: string) {
      const bucket = `bad-keys:${address}`;
      if (!auth.recentlyValid(credential)) {
        const { allowed, retryAfterSeconds } = await keyRate.peek(bucket);
        if (!allowed) {
          metrics.limits.rateLimited.inc({ scope: 'bad_keys' });
          throw rateLimitedError(limits.rateLimitPerMinute, retryAfterSeconds);
        }
      }
      try {
        return await auth.authenticate(credential, operation, address);
      } catch (err) {
        if (err instanceof UnauthenticatedError) await keyRate.take(bucket);
        throw err;
      }
    },

    /** Spends one request of the key, then one of its tenant (none when the key is over). */
    async spend(principal: Principal, status = 429) {
      await takeRate(`key:${principal.keyId}`, status);
      await takeRate(`tenant:${principal.tenantId}`, status);
    },

    /** spend() for a graphql-ws operation: the refusal to send, null when both allowed it. */
    async spendOnSocket(principal: Principal): Promise<GraphQLError | null> {
      const rates = [
        [keyRate, `key:${principal.keyId}`, limits.rateLimitPerMinute, 'key'],
        [tenantRate, `tenant:${principal.tenantId}`, limits.tenantRateLimitPerMinute, 'tenant'],
      ] as const;
      for (const [rate, key, perMinute, scope] of rates) {
        const { allowed, retryAfterSeconds } = await rate.take(key);
        if (allowed) continue;
        metrics.limits.rateLimited.inc({ scope: 'websocket' });
        return limitGraphQLError(rateLimitedError(perMinute, retryAfterSeconds, scope));
      }
      return null;
    },

    /**
     * Waits for one of the tenant's slots, at most until just before the running request's
     * deadline (Graph.withDeadline; `requestTimeoutMs` outside one); hand its release to the
     * end of the request's work. Refused: 503 with Retry-After, LIMIT_EXCEEDED. Once `signal`
     * aborts (the client went away) it stops waiting, and its place goes to the next.
     */
    async hold(tenantId: string, signal?: AbortSignal): Promise<() => void> {
      try {
        return await acquire(tenantId, signal);
      } catch (err) {
        throw err instanceof AppError ? keyRefusal(err) : err;
      }
    },

    /**
     * Runs a graphql-ws query or mutation in one of its tenant's slots, or answers the refusal.
     * Once `signal` aborts (its socket closed, or its client completed it) it stops waiting, and
     * its place goes to the next.
     */
    async run(
      tenantId: string,
      work: () => Promise<ExecutionResult>,
      signal?: AbortSignal,
    ): Promise<ExecutionResult> {
      let release: () => void;
      try {
        release = await acquire(tenantId, signal);
      } catch (err) {
        if (err instanceof AppError) return { errors: [limitGraphQLError(err)] };
        // Nobody hears this answer: the socket is gone.
        if (signal?.aborted) return { data: null };
        throw err;
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

export type RequestBudgets = ReturnType<typeof requestBudgets>;
