import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  BREAK,
  execute,
  getVariableValues,
  GraphQLError,
  visit,
  type DocumentNode,
  type FieldNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { metrics } from '../metrics/metrics.js';

type Gateway = ApolloServerOptionsWithGateway<object>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

export interface CompiledExecutionOptions {
  /** Runs of a query document on graphql-js before it is compiled (0: compile at once). */
  compileAfter?: number;
  /** Query documents (with their operation name) remembered, least recently run dropped. */
  maxDocuments?: number;
}

/**
 * Documents left to graphql-js. graphql-jit 0.8.9 writes a query's literal arguments into the
 * code it compiles (as JSON), then turns any `"__MAGIC_DATE__<uuid><text>"` in it into
 * `new Date(<text>)`: a string argument holding that marker would run as code in this process,
 * so a document with any of its markers in a string or a name is never compiled (the values are
 * the decoded ones: an escaped marker counts too). Nor is introspection (`__schema`, `__type`):
 * tools ask it now and then, and its document took 15-23 ms to compile.
 */
function leftToGraphqlJs(document: DocumentNode): boolean {
  let found = false;
  const check = (node: { value: string }) => {
    if (!node.value.includes('__MAGIC_')) return undefined;
    found = true;
    return BREAK;
  };
  const introspection = (node: FieldNode) => {
    if (node.name.value !== '__schema' && node.name.value !== '__type') return undefined;
    found = true;
    return BREAK;
  };
  visit(document, { StringValue: check, Name: check, Field: introspection });
  return found;
}

/**
 * graphql-jit's errors carry no `extensions` object where graphql-js's carry an empty one, and
 * Apollo reads `extensions.code` of every error: remade as graphql-js's, locations kept.
 */
function asGraphqlJsError(error: GraphQLError): GraphQLError {
  const remade = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
  return Object.assign(remade, { locations: error.locations });
}

/** A document's runs so far, and its compiled form once made (null: it would not compile). */
interface Entry {
  runs: number;
  compiled?: CompiledQuery | null;
}

/**
 * How Apollo Server executes this API's operations. A query document run `compileAfter` times
 * is compiled by graphql-jit into a function of its own: completing a 50-agent page's ~2,300
 * fields took graphql-js about 1.4 ms of the API's CPU per request (issue 15). A document's
 * first runs, mutations, and a document graphql-jit cannot compile (or should not: leftToGraphqlJs)
 * run on graphql-js. Compiled code calls an interface's resolveType without awaiting it, so the
 * schema's interfaces resolve synchronously (src/server/schema.ts).
 *
 * Contract: the result is the one graphql-js's `execute` gives for the same schema, document,
 * variables and context (data, errors with their codes and paths, nulls where a resolver
 * failed); test/compiled-execution runs the API's reads both ways and compares them. Resolvers
 * run the same either way, so loaders, auth checks and limits are unchanged. Execution starts
 * only after Apollo parsed and validated the document and its plugins accepted the operation.
 * Memory is bounded: at most `maxDocuments` entries, the least recently run dropped first.
 *
 * Apollo takes an executor only through its gateway interface, so this is one, serving the
 * schema it is given for good (the schema never changes while the process runs).
 */
export function compiledExecution(
  schema: GraphQLSchema,
  { compileAfter = 1, maxDocuments = 1_000 }: CompiledExecutionOptions = {},
): Gateway {
  const entries = new Map<string, Entry>();

  const entryFor = (key: string): Entry => {
    const found = entries.get(key);
    if (found) {
      entries.delete(key); // moved to the newest end: the map's order is the recency order
      entries.set(key, found);
      return found;
    }
    const entry: Entry = { runs: 0 };
    entries.set(key, entry);
    if (entries.size > maxDocuments) entries.delete(entries.keys().next().value!);
    return entry;
  };

  const executor: Executor = async (request) => {
    const { document, operation, operationName, context } = request;
    const variables = request.request.variables;
    if (operation.operation === 'query') {
      const entry = entryFor(`${operationName ?? ''}\n${request.queryHash}`);
      if (entry.compiled === undefined && entry.runs >= compileAfter) {
        const compiled = leftToGraphqlJs(document)
          ? null
          : compileQuery(schema, document, operationName ?? undefined);
        entry.compiled = compiled && isCompiledQuery(compiled) ? compiled : null;
      }
      entry.runs++;
      if (entry.compiled) {
        metrics.graphql.executions.inc({ execution: 'compiled' });
        // graphql-js coerces the variables, so a bad one is refused in its words (Apollo makes
        // those 400 BAD_USER_INPUT by their variable's node, which graphql-jit's lack).
        const coerced = getVariableValues(
          schema,
          operation.variableDefinitions ?? [],
          variables ?? {},
        );
        if (coerced.errors) return { errors: coerced.errors };
        const result = await entry.compiled.query(undefined, context, variables);
        return result.errors ? { ...result, errors: result.errors.map(asGraphqlJsError) } : result;
      }
    }
    metrics.graphql.executions.inc({ execution: 'interpreted' });
    return execute({
      schema,
      document,
      contextValue: context,
      variableValues: variables,
      operationName,
    });
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    load: async () => ({ executor }),
    stop: async () => entries.clear(),
  };
}
