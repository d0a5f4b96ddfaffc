import { describe, expect, it } from 'vitest';
import {
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  execute,
  parse,
  type GraphQLError,
  type OperationDefinitionNode,
} from 'graphql';
import {
  compiledExecution,
  type CompiledExecutionOptions,
} from '../src/server/compiled-execution.js';
import { metrics } from '../src/metrics/metrics.js';

/* The executor's own rules, on a schema of two fields: when it compiles, and what it forgets. */

let calls = 0;
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      calls: { type: GraphQLInt, resolve: () => ++calls },
      echo: {
        type: GraphQLString,
        args: { text: { type: GraphQLString } },
        resolve: (_, { text }) => text,
      },
    },
  }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: { bump: { type: GraphQLInt, resolve: () => ++calls } },
  }),
});

async function executorOf(options: CompiledExecutionOptions) {
  const { executor } = await compiledExecution(schema, options).load({ apollo: {} as never });
  return async (query: string, operationName?: string, variables?: Record<string, unknown>) => {
    const document = parse(query);
    const operation = document.definitions[0] as OperationDefinitionNode;
    const count = async (execution: string) =>
      (await metrics.graphql.executions.get()).values.find((v) => v.labels.execution === execution)
        ?.value ?? 0;
    const before = await count('compiled');
    const result = await executor!({
      document,
      operation,
      operationName: operationName ?? null,
      queryHash: query, // Apollo's hash of the text; the text itself names it as well
      context: {},
      request: { variables },
    } as never);
    return { result, compiled: (await count('compiled')) > before };
  };
}

describe('compiled execution', () => {
  it('compiles a query after `compileAfter` runs and answers the same', async () => {
    const run = await executorOf({ compileAfter: 2 });
    const q = `query($t: String) { echo(text: $t) }`;
    const runs = [await run(q, undefined, { t: 'a' }), await run(q, undefined, { t: 'b' })];
    runs.push(await run(q, undefined, { t: 'c' }));
    expect(runs.map((r) => r.compiled)).toEqual([false, false, true]);
    expect(runs.map((r) => r.result)).toEqual(['a', 'b', 'c'].map((t) => ({ data: { echo: t } })));
  });

  it('forgets the least recently run document past `maxDocuments`', async () => {
    const run = await executorOf({ compileAfter: 1, maxDocuments: 2 });
    const [a, b, c] = ['{ echo(text: "a") }', '{ echo(text: "b") }', '{ echo(text: "c") }'];
    await run(a);
    await run(b);
    expect((await run(a)).compiled).toBe(true); // a is now the newest, b the oldest
    await run(c); // b is forgotten
    expect((await run(c)).compiled).toBe(true);
    expect((await run(b)).compiled).toBe(false); // a is forgotten
    expect((await run(a)).compiled).toBe(false);
  });

  it('refuses a variable that is not its type in graphql-js words, node included', async () => {
    const run = await executorOf({ compileAfter: 0 });
    const q = `query($t: String) { echo(text: $t) }`;
    const { result, compiled } = await run(q, undefined, { t: { not: 'a string' } });
    expect(compiled).toBe(true);
    const variableValues = { t: { not: 'a string' } };
    const expected = await execute({ schema, document: parse(q), variableValues });
    const shown = (errors: readonly GraphQLError[] | undefined) =>
      errors?.map((e) => [e.message, e.nodes?.map((n) => n.kind)]);
    expect(shown(result.errors)).toEqual(shown(expected.errors));
    expect(shown(result.errors)?.[0]?.[1]).toEqual(['VariableDefinition']);
  });

  it("never compiles a document whose strings or names hold graphql-jit's markers", async () => {
    // graphql-jit 0.8.9 writes literal arguments into its code, then makes any
    // "__MAGIC_DATE__<uuid><text>" in them `new Date(<text>)`: the text would run here.
    const marker = '__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d';
    const code = '(globalThis.compiledExecutionRan=true,1)';
    const run = await executorOf({ compileAfter: 0 });
    const escaped = [...marker].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    for (const literal of [`"${marker}${code}"`, `"${escaped.join('')}${code}"`]) {
      const { result, compiled } = await run(`{ echo(text: ${literal}) }`);
      expect(compiled).toBe(false);
      expect(result).toEqual({ data: { echo: `${marker}${code}` } });
    }
    expect((globalThis as { compiledExecutionRan?: boolean }).compiledExecutionRan).toBeUndefined();
  });

  it('leaves introspection to graphql-js', async () => {
    const run = await executorOf({ compileAfter: 0 });
    const runs = [
      await run('{ __schema { queryType { name } } }'),
      await run('{ __type(name: "Query") { name } }'),
    ];
    expect(runs.map((r) => r.compiled)).toEqual([false, false]);
    expect(runs[1]!.result).toEqual({ data: { __type: { name: 'Query' } } });
    expect((await run('{ __typename calls }')).compiled).toBe(true);
  });

  it('runs mutations on graphql-js, once each', async () => {
    const run = await executorOf({ compileAfter: 0 });
    const before = calls;
    const runs = [await run('mutation { bump }'), await run('mutation { bump }')];
    expect(runs.map((r) => r.compiled)).toEqual([false, false]);
    expect(calls - before).toBe(2);
  });

  it('answers as graphql-js does when graphql-jit refuses the document', async () => {
    const run = await executorOf({ compileAfter: 0 });
    // Apollo never sends an operation name the document lacks; graphql-jit refuses to compile
    // such a document, as it would any other it cannot.
    const refused = await run('query A { calls }', 'B');
    expect(refused.compiled).toBe(false);
    expect(refused.result.errors?.[0]?.message).toBe('Unknown operation named "B".');
  });
});
