import type { ApolloServerPlugin } from '@apollo/server';
import { bounded, metrics } from './metrics.js';

/** Operation names are the client's to choose: the first 100 are labels, the rest `other`. */
const operationLabel = bounded(100);
const codeLabel = bounded(50);

/**
 * Times every GraphQL operation over HTTP by name and type, and counts the errors it sends by
 * `extensions.code` (a request refused before it parsed has the type `unknown`).
 */
export function metricsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request }) {
      const timer = metrics.graphql.duration.startTimer();
      let type = 'unknown';
      let name = request.operationName ?? null;
      return {
        async didResolveOperation({ operation, operationName }) {
          type = operation?.operation ?? type;
          name = operationName ?? name;
        },
        async willSendResponse({ response }) {
          timer({ operation: name ? operationLabel(name) : 'anonymous', type });
          const errors =
            response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          for (const e of errors) {
            const code = e.extensions?.code;
            metrics.graphql.errors.inc({
              code: codeLabel(typeof code === 'string' ? code : 'UNKNOWN'),
            });
          }
        },
      };
    },
  };
}
