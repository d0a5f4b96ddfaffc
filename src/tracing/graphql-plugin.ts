import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';

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
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute('graphql.operation.type', type);
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
      };
    },
  };
}
