import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, getNamedType, type DocumentNode, type GraphQLSchema } from 'graphql';
// The CJS build on purpose: the package's ESM build imports graphql's ESM copy, and a schema
// built by type-graphql (graphql's CJS copy) then fails with "Cannot use GraphQLObjectType
// from another module or realm".
import {
  fieldExtensionsEstimator,
  getComplexity,
  simpleEstimator,
  type ComplexityEstimator,
} from 'graphql-query-complexity/cjs';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/page.js';
import { rememberedComplexity } from './complexity-cache.js';
import { LimitCode, LimitError, limitGraphQLError } from './errors.js';

/** getComplexity stops walking after this many selections (its own default). */
const MAX_QUERY_NODES = 10_000;

/**
 * A field with an Int argument `first` (a page) costs `first * (childComplexity + 1)`:
 * every item on the page pays for its own selection. Without `first` the page is
 * DEFAULT_PAGE_SIZE long. A `first` outside 1..MAX_PAGE_SIZE counts as 1: the resolver
 * refuses it with a precise BAD_USER_INPUT, which says more than a complexity refusal.
 */
export function firstArgumentEstimator(defaultFirst = DEFAULT_PAGE_SIZE): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    const first = field.args.find((arg) => arg.name === 'first');
    if (!first || getNamedType(first.type).name !== 'Int') return undefined;
    const value: unknown = args.first;
    const inRange = typeof value === 'number' && value >= 1 && value <= MAX_PAGE_SIZE;
    const size = typeof value !== 'number' ? defaultFirst : inRange ? value : 1;
    return size * (childComplexity + 1);
  };
}

/** The estimators in order: `@Field({ complexity })` / `@Extensions`, then `first`, then 1. */
export function complexityEstimators(): ComplexityEstimator[] {
  return [
    fieldExtensionsEstimator(),
    firstArgumentEstimator(),
    simpleEstimator({ defaultComplexity: 1 }),
  ];
}

/**
 * Computes the operation's complexity and returns it. Throws a GraphQLError with code
 * QUERY_TOO_COMPLEX when it is over `max` (or has over 10,000 selections to walk), and the
 * GraphQLError of invalid variables as BAD_USER_INPUT. Use after validation.
 */
export function assertComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
  max: number,
): number {
  let complexity: number;
  try {
    complexity = rememberedComplexity(schema, document, variables, operationName, () =>
      getComplexity({
        schema,
        query: document,
        variables: variables ?? {},
        operationName: operationName ?? undefined,
        estimators: complexityEstimators(),
        maxQueryNodes: MAX_QUERY_NODES,
      }),
    );
  } catch (err) {
    if (err instanceof GraphQLError && err.message.startsWith('Query exceeds the maximum')) {
      const error = new LimitError(
        LimitCode.QUERY_TOO_COMPLEX,
        `Query complexity is over the limit of ${max}: it has more than ${MAX_QUERY_NODES} selections`,
        { limit: max, received: MAX_QUERY_NODES },
      );
      throw limitGraphQLError(error);
    }
    if (err instanceof GraphQLError) {
      // Variables that do not coerce: execution would refuse them too.
      throw new GraphQLError(err.message, {
        nodes: err.nodes,
        originalError: err,
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    throw err;
  }
  if (complexity > max) {
    const error = new LimitError(
      LimitCode.QUERY_TOO_COMPLEX,
      `Query complexity ${complexity} is over the limit of ${max}`,
      { limit: max, received: complexity },
    );
    throw limitGraphQLError(error);
  }
  return complexity;
}

/**
 * Apollo Server plugin: checks every operation's complexity once it is parsed, validated and
 * resolved (variables known), before anything executes. Errors are sent with HTTP 400.
 */
export function complexityPlugin<TContext extends BaseContext>(
  schema: GraphQLSchema,
  maxComplexity: number,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          try {
            assertComplexity(schema, document, request.variables, operationName, maxComplexity);
          } catch (err) {
            if (!(err instanceof GraphQLError)) throw err;
            // Without an http extension Apollo answers errors thrown here with 500.
            throw new GraphQLError(err.message, {
              nodes: err.nodes,
              originalError: err.originalError ?? err,
              extensions: { ...err.extensions, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
