import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { assertComplexity } from './complexity.js';
import type { LimitsConfig } from './config.js';
import { LimitError, limitGraphQLError } from './errors.js';
import { assertParseableNesting } from './nesting.js';
import { limitValidationRules } from './rules.js';
import { limitCodeFor, tokenLimitParseOptions, tooManyTokensError } from './tokens.js';

export type OperationLimits = Pick<
  LimitsConfig,
  'maxDepth' | 'maxAliases' | 'maxTokens' | 'maxComplexity'
>;

/** Gives an error graphql-js raised without a code the code Apollo would have given it. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (typeof error.extensions.code === 'string') return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error.originalError ?? error,
    extensions: { ...error.extensions, code },
  });
}

/**
 * graphql-ws's parse, validate and complexity steps with the limits applied, for its
 * `onSubscribe`. Returns the execution arguments (no context or root: graphql-ws fills those
 * from its options) or the errors to send; never throws for a bad document, so a bad
 * operation gets an Error message instead of closing the socket as a throwing parse would.
 * `extraRules` adds validation rules, e.g. NoSchemaIntrospectionCustomRule in production.
 */
export function checkOperation(
  schema: GraphQLSchema,
  payload: SubscribePayload,
  limits: OperationLimits,
  extraRules: readonly ValidationRule[] = [],
): ExecutionArgs | readonly GraphQLError[] {
  try {
    assertParseableNesting(payload.query, limits.maxDepth);
  } catch (err) {
    if (err instanceof LimitError) return [limitGraphQLError(err)];
    throw err;
  }
  let document: DocumentNode;
  try {
    document = parse(payload.query, tokenLimitParseOptions(limits.maxTokens));
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    if (limitCodeFor(err.message)) return [limitGraphQLError(tooManyTokensError(limits.maxTokens))];
    return [withCode(err, 'GRAPHQL_PARSE_FAILED')];
  }
  const rules = [...specifiedRules, ...limitValidationRules(limits), ...extraRules];
  const errors = validate(schema, document, rules);
  if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
  try {
    assertComplexity(
      schema,
      document,
      payload.variables,
      payload.operationName,
      limits.maxComplexity,
    );
  } catch (err) {
    if (err instanceof GraphQLError) return [err];
    throw err;
  }
  return {
    schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables,
  };
}
