import type { ApolloServerPlugin } from '@apollo/server';
import { bounded, metrics } from './metrics.js';

/** Operation names are the client's to choose: the first 100 are labels, the rest `other`. */
const operationLabel = bounded(100);
const codeLabel = bounded(50);

/** Counts GraphQL errors sent, by `extensions.code` (`UNKNOWN` without one). */
export function countGraphqlErrors(errors: readonly object[]): void {
  for (const e of errors) {
    const code = (e as { extensions?: Record<string, unknown> }).extensions?.code;
    metrics.graphql.errors.inc({ code: codeLabel(typeof code === 'string' ? code : 'UNKNOWN') });
  }
}

/**
 * Times every GraphQL operation over HTTP by name and type, and counts the errors it sends by
 * `extensions.code` (a request refused before it parsed has the type `unknown`). Requests
 * refused before any operation starts are counted too: a failed context (a bad key, a rate
 * limit, Neo4j away during the key lookup) and a request with no query. Refusals the HTTP
 * handler sends itself (body limits, malformed JSON, REQUEST_TIMEOUT) it counts there.
 */
export function metricsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async contextCreationDidFail({ error }) {
      countGraphqlErrors([error]);
    },
    async invalidRequestWasReceived({ error }) {
      countGraphqlErrors([error]);
    },
    async requestDidStart() {
      const timer = metrics.graphql.duration.startTimer();
      let type = 'unknown';
      // A name is a label only once its operation resolved: a request that never parsed takes
      // none of the 100 slots with whatever name it sent.
      let operation = 'unresolved';
      return {
        async didResolveOperation({ operation: resolved, operationName }) {
          type = resolved?.operation ?? type;
          operation = operationName ? operationLabel(operationName) : 'anonymous';
        },
        async willSendResponse({ response }) {
          timer({ operation, type });
          countGraphqlErrors(
            response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [],
          );
        },
      };
    },
  };
}
