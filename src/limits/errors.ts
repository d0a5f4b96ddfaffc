import { GraphQLError, type ASTNode } from 'graphql';
import { AppError, LimitExceededError } from '../domain/errors.js';

/** The stable `extensions.code` of each limit. */
export const LimitCode = {
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  RATE_LIMITED: 'RATE_LIMITED',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  BODY_TIMEOUT: 'BODY_TIMEOUT',
} as const;
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/**
 * A request went over one of the limits. An AppError, so src/server/format-error.ts passes its code
 * and details (`limit`, `received`) to the client unchanged.
 */
export class LimitError extends AppError {
  constructor(
    override readonly code: LimitCode,
    message: string,
    details: { limit: number; received?: number; retryAfterSeconds?: number; scope?: 'tenant' },
  ) {
    super(code, message, details);
  }
}

/**
 * Wraps a LimitError (or another AppError: a tenant's LIMIT_EXCEEDED) for graphql-js, Apollo
 * and graphql-ws. The error rides along as `originalError`: Apollo rewraps validation errors
 * as GRAPHQL_VALIDATION_FAILED but keeps the original, and formatError's AppError branch
 * restores our code from it.
 */
export function limitGraphQLError(
  error: AppError,
  nodes?: ASTNode | readonly ASTNode[],
): GraphQLError {
  return new GraphQLError(error.message, {
    nodes,
    originalError: error,
    extensions: { ...error.details, code: error.code },
  });
}

/** Counts past 2^53 (a fragment bomb) are shown as such instead of as 1e+150. */
export function describeCount(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : `more than ${Number.MAX_SAFE_INTEGER}`;
}

/** 429: the key (or its tenant, across all its keys) has used its requests for now. */
export function rateLimitedError(
  perMinute: number,
  retryAfterSeconds: number,
  scope: 'key' | 'tenant' = 'key',
): LimitError {
  if (scope === 'tenant') {
    return new LimitError(
      LimitCode.RATE_LIMITED,
      `Too many requests for this tenant: its budget is ${perMinute} per minute across all ` +
        `its API keys (the server's TENANT_RATE_LIMIT_PER_MINUTE raises it); ` +
        `retry in ${retryAfterSeconds} s`,
      { limit: perMinute, retryAfterSeconds, scope },
    );
  }
  return new LimitError(
    LimitCode.RATE_LIMITED,
    `Too many requests: the limit is ${perMinute} per minute; retry in ${retryAfterSeconds} s`,
    { limit: perMinute, retryAfterSeconds },
  );
}

/**
 * 503: the tenant's requests in flight on this instance are at `max` and none of its slots
 * came free in time (`waitedMs`), or `queued` more already wait for one.
 */
export function tenantBusyError(
  max: number,
  why: { queued: number } | { waitedMs: number },
): LimitExceededError {
  const reason =
    'queued' in why
      ? `${why.queued} more already wait for a turn (TENANT_MAX_QUEUED_REQUESTS)`
      : `none came free within the ${Math.round(why.waitedMs)} ms this request had left`;
  const err = new LimitExceededError(
    'concurrentRequestsPerTenant',
    `Too many requests of this tenant at once: ${max} may run at a time on this server ` +
      `(TENANT_MAX_CONCURRENT_REQUESTS raises it) and ${reason}; retry in 1 s or send fewer ` +
      `requests at once`,
  );
  Object.assign(err.details, { max, retryAfterSeconds: 1 });
  return err;
}

/** The request ran past `requestTimeoutMs`. */
export function requestTimeoutError(timeoutMs: number): LimitError {
  return new LimitError(
    LimitCode.REQUEST_TIMEOUT,
    `Request ran over the time limit of ${timeoutMs} ms`,
    { limit: timeoutMs },
  );
}

/** 408: the request's body did not arrive within `bodyTimeoutMs` (a slow or stalled client). */
export function bodyTimeoutError(timeoutMs: number): LimitError {
  return new LimitError(
    LimitCode.BODY_TIMEOUT,
    `Request body was not received within ${timeoutMs} ms; send the whole body at once`,
    { limit: timeoutMs },
  );
}
