import type { ApolloServerPlugin } from '@apollo/server';

/**
 * Answers HTTP 503 with a Retry-After header when an operation failed because Neo4j is
 * unreachable (SERVICE_UNAVAILABLE, from the circuit breaker in graph/breaker.ts), so
 * clients and load balancers see an outage rather than a 200 with errors.
 */
export function serviceUnavailablePlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const error = response.body.singleResult.errors?.find(
            (e) => e.extensions?.code === 'SERVICE_UNAVAILABLE',
          );
          if (!error) return;
          const retryAfter = Number(error.extensions?.retryAfterSeconds ?? 1);
          response.http.status = 503;
          response.http.headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
        },
      };
    },
  };
}
