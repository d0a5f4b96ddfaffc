import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { escapeControls } from '../domain/controls.js';
import { AppError } from '../domain/errors.js';
import { BudgetExceededError } from '../llm/budget.js';
import type { Logger } from '../logger.js';

/** Codes that GraphQL and Apollo raise themselves for bad requests: passed through as they are. */
export const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const APOLLO_INTROSPECTION = /^GraphQL introspection is not allowed by Apollo Server/;
const INTROSPECTION_OFF =
  'Introspection is off on a production server (NODE_ENV=production): ' +
  'the schema is schema/schema.graphql of the release it runs';

/** A message as a client sees it (Apollo's introspection refusal said how to configure Apollo). */
const shownMessage = (message: string) =>
  APOLLO_INTROSPECTION.test(message) ? INTROSPECTION_OFF : escapeControls(message);

/**
 * graphql-js's "Did you mean ...?" hints name fields and types of the schema: with
 * introspection off (production) they would enumerate it anyway (issue 9). Apollo strips them
 * from HTTP answers (`hideSchemaDetailsFromClientErrors`); this does the same for graphql-ws,
 * with Apollo's own pattern.
 */
export function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/ ?Did you mean(.+?)\?$/, '');
  if (message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

/**
 * Maps any error to what a client may see: AppErrors keep their code and message, request
 * errors pass through, a Neo4j error that passes is SERVICE_UNAVAILABLE, and everything else
 * becomes "Internal server error" (logged in full).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof BudgetExceededError) {
    // A model call a mutation makes itself (proposeAgentVersion) was refused by a budget: the
    // message names it and how to raise it. (A step's refusal parks the step instead.)
    const { scope, targetId } = original.budget;
    return {
      message: original.message,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: original.code, scope, targetId },
    };
  }
  if (original instanceof AppError) {
    return {
      message: original.message,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { ...original.details, code: original.code },
    };
  }
  const code = formatted.extensions?.code;
  if (!original && typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
    // graphql-js quotes a value it could not coerce with JSON.stringify: C1 and bidi stay raw.
    const message = shownMessage(formatted.message);
    return { message, locations: formatted.locations, extensions: { code } };
  }
  if (original instanceof GraphQLError || (!original && error instanceof GraphQLError)) {
    // Coercion errors (bad enum, wrong type) and the server's own refusals (authentication,
    // rate limit) are GraphQLErrors without an AppError inside: keep their details.
    const { http: _http, stacktrace: _stack, ...details } = formatted.extensions ?? {};
    return {
      message: shownMessage(formatted.message),
      path: formatted.path,
      locations: formatted.locations,
      extensions: { ...details, code: typeof code === 'string' ? code : 'BAD_USER_INPUT' },
    };
  }
  if ((original as { retriable?: unknown } | undefined)?.retriable === true) {
    // Neo4j refused for a reason that passes (a deadlock, its memory pool full) until the
    // request's deadline, retries included: the client may retry (HTTP 503, error-status.ts).
    logger.warn({ err: original, path: formatted.path }, 'the database stayed busy');
    return {
      message: 'The database is busy; retry in a moment',
      path: formatted.path,
      extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 },
    };
  }
  logger.error({ err: original ?? error, path: formatted.path }, 'internal error');
  return {
    message: 'Internal server error',
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
