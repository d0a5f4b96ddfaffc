import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { UnauthenticatedError, type AppError } from '../domain/errors.js';

/**
 * RFC 6750's challenge when no key was sent, or credentials of another scheme (Basic): no
 * error code (section 3.1).
 */
export const KEY_CHALLENGE = 'Bearer';
/** RFC 6750's challenge when the key sent is no key (unknown or revoked). */
export const BAD_KEY_CHALLENGE = 'Bearer error="invalid_token"';

/**
 * Gives an operation's HTTP status from its errors, as clients and load balancers read it:
 * - SERVICE_UNAVAILABLE (Neo4j unreachable: the circuit breaker in graph/breaker.ts): 503 with
 *   a Retry-After header, an outage rather than a 200 with errors;
 * - UNAUTHENTICATED (no key, on a field that needs one; a bad key is refused before execution
 *   with the same answer): 401 with `WWW-Authenticate: Bearer` (KEY_CHALLENGE).
 */
export function errorStatusPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors ?? [];
          const unavailable = errors.find((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE');
          if (unavailable) {
            const retryAfter = Number(unavailable.extensions?.retryAfterSeconds ?? 1);
            response.http.status = 503;
            response.http.headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
          } else if (errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
            response.http.status = 401;
            response.http.headers.set('www-authenticate', KEY_CHALLENGE);
          }
        },
      };
    },
  };
}

/**
 * A key refused before any operation runs (unknown or revoked: 401 with BAD_KEY_CHALLENGE; a
 * header with no Bearer key, as Basic's: 401 with KEY_CHALLENGE; its address over the rate of
 * failed keys: 429; the key store unreachable: 503), as the error Apollo answers with; its
 * headers are in extensions.http, which /mcp and /a2a copy too.
 */
export function keyRefusal(err: AppError): GraphQLError {
  const status =
    err instanceof UnauthenticatedError ? 401 : err.code === 'RATE_LIMITED' ? 429 : 503;
  const retryAfter = err.details.retryAfterSeconds;
  const headers = new HeaderMap();
  if (retryAfter !== undefined) headers.set('retry-after', String(retryAfter));
  if (err instanceof UnauthenticatedError)
    headers.set('www-authenticate', err.keySent ? BAD_KEY_CHALLENGE : KEY_CHALLENGE);
  return new GraphQLError(err.message, {
    extensions: { ...err.details, code: err.code, http: { status, headers } },
  });
}
