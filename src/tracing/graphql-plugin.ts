import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import { echoedId } from '../domain/errors.js';

/**
 * Names the request's span after its GraphQL operation, as the semantic conventions for
 * GraphQL do (`mutation SubmitTask`), with its type and name as attributes; never the document
 * or the variables.
 */
export function tracingPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation ?? 'query';
          // The client chooses the name: its start and length, not 100 KB in every span.
          const name = operationName ? echoedId(operationName) : null;
          span.updateName(name ? `${type} ${name}` : type);
          span.setAttribute('graphql.operation.type', type);
          if (name) span.setAttribute('graphql.operation.name', name);
        },
      };
    },
  };
}
