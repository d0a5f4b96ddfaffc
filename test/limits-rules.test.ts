import {
  getIntrospectionQuery,
  GraphQLError,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ValidationRule,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { complexityInputs, rememberedComplexity } from '../src/limits/complexity-cache.js';
import {
  assertComplexity,
  DEFAULT_LIMITS,
  formatTokenLimitError,
  limitCodeFor,
  maxAliasesRule,
  maxDepthRule,
  tokenLimitParseOptions,
} from '../src/limits/index.js';
import { schema, nested, aliases } from './utils/limits-schema.js';

/*
 * The validation limits on their own: depth, aliases, complexity (fragment bombs included) and
 * tokens (limits-wiring.test.ts: the limits in Apollo Server, graphql-ws, rates and timeouts).
 */

/** F0 spreads F1 twice, F1 spreads F2 twice...: 2^levels copies of F<levels>'s fields. */
function fragmentBomb(levels: number, leaf: string): string {
  const fragments = Array.from({ length: levels }, (_, i) => {
    return `fragment F${i} on Agent { ...F${i + 1} ...F${i + 1} }`;
  });
  return `{ agent(id: "a") { ...F0 } } ${fragments.join(' ')} fragment F${levels} on Agent { ${leaf} }`;
}

/**
 * `rule` with its context's getFragment lookups counted: the work of measuring a document, not
 * the time it takes. Past `budget` lookups it throws, so a walk that expands every spread fails
 * at once instead of running for 2^levels steps.
 */
function countingLookups(rule: ValidationRule, budget: number) {
  let lookups = 0;
  const counted: ValidationRule = (context) =>
    rule(
      new Proxy(context, {
        get(target, prop, receiver) {
          if (prop !== 'getFragment') return Reflect.get(target, prop, receiver) as unknown;
          return (name: string) => {
            if (++lookups > budget) throw new Error(`more than ${budget} fragment lookups`);
            return target.getFragment(name);
          };
        },
      }),
    );
  return { rule: counted, lookups: () => lookups };
}

function check(query: string, rules: ValidationRule[], withSpecified = true) {
  return validate(schema, parse(query), withSpecified ? [...specifiedRules, ...rules] : rules);
}

function onlyError(errors: readonly GraphQLError[]): GraphQLError {
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

describe('depth limit', () => {
  it('passes a query exactly at the limit and rejects one level more', () => {
    expect(check(nested(10), [maxDepthRule(10)])).toEqual([]);
    const error = onlyError(check(nested(11), [maxDepthRule(10)]));
    expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 10, received: 11 });
    expect(error.message).toBe('Query depth 11 is over the limit of 10');
  });

  it('counts depth through fragments and inline fragments', () => {
    const query = `
      { agent(id: "a") { ...M } }
      fragment M on Agent { manager { ...M2 } }
      fragment M2 on Agent { manager { ... on Agent { manager { id } } } }
    `;
    expect(check(query, [maxDepthRule(5)])).toEqual([]);
    const error = onlyError(check(query, [maxDepthRule(4)]));
    expect(error.extensions.code).toBe('QUERY_TOO_DEEP');
    expect(error.message).toBe('Query depth 5 is over the limit of 4');
  });

  it('does not loop on fragment cycles, leaving them to NoFragmentCycles', () => {
    const query = `
      { agent(id: "a") { ...A } }
      fragment A on Agent { manager { ...B } }
      fragment B on Agent { manager { ...A } }
    `;
    const errors = check(query, [maxDepthRule(10)]);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/Cannot spread fragment "A"/);
    expect(errors.some((e) => e.extensions.code === 'QUERY_TOO_DEEP')).toBe(false);
  });

  it('measures a fragment spread at every level once, not once per spread', () => {
    const depth = countingLookups(maxDepthRule(2), 1_000);
    const errors = check(fragmentBomb(60, 'manager { manager { id } }'), [depth.rule], false);
    expect(depth.lookups()).toBe(61); // F0 to F60, each looked up once: 2^60 spreads
    const error = onlyError(errors);
    expect(error.extensions.code).toBe('QUERY_TOO_DEEP');
    expect(error.message).toBe('Query depth 4 is over the limit of 2');
  });

  it('lets the standard introspection query through: ofType chains add no depth', () => {
    expect(check(getIntrospectionQuery(), [maxDepthRule(DEFAULT_LIMITS.maxDepth)])).toEqual([]);
    // Other introspection fields count; graphql's MaxIntrospectionDepthRule also objects here.
    const deep = '{ __schema { types { fields { type { fields { type { name } } } } } } }';
    const error = onlyError(check(deep, [maxDepthRule(6)], false));
    expect(error.extensions.code).toBe('QUERY_TOO_DEEP');
    expect(error.message).toBe('Query depth 7 is over the limit of 6');
  });
});

describe('alias limit', () => {
  it('passes 30 aliases and rejects 31', () => {
    expect(check(aliases(30), [maxAliasesRule(30)])).toEqual([]);
    const error = onlyError(check(aliases(31), [maxAliasesRule(30)]));
    expect(error.extensions).toMatchObject({ code: 'TOO_MANY_ALIASES', limit: 30, received: 31 });
    expect(error.message).toBe('Alias count 31 is over the limit of 30');
  });

  it('counts a fragment once per spread, catching a fragment spread 10 times', () => {
    const spreads = Array.from({ length: 10 }, () => '...F').join(' ');
    const query = `{ agent(id: "a") { ${spreads} } } fragment F on Agent { a: id b: id c: id d: id }`;
    expect(check(query, [])).toEqual([]); // valid GraphQL: only the limit stops it
    const error = onlyError(check(query, [maxAliasesRule(30)]));
    expect(error.extensions.code).toBe('TOO_MANY_ALIASES');
    expect(error.message).toBe('Alias count 40 is over the limit of 30');
  });

  it('counts an exponential fragment bomb quickly and exactly', () => {
    const aliases = countingLookups(maxAliasesRule(30), 1_000);
    const error = onlyError(check(fragmentBomb(40, 'x: id'), [aliases.rule], false));
    expect(aliases.lookups()).toBe(41); // F0 to F40 once each, for 2^40 spreads
    expect(error.message).toBe(`Alias count ${2 ** 40} is over the limit of 30`);
    const huge = onlyError(check(fragmentBomb(70, 'x: id'), [maxAliasesRule(30)], false));
    expect(huge.message).toBe('Alias count more than 9007199254740991 is over the limit of 30');
  });

  it('adds up aliases across all operations of the document', () => {
    const query = `query A { agent(id: "a") { a: id b: id } } query B { agent(id: "b") { c: id } }`;
    const error = onlyError(check(query, [maxAliasesRule(2)]));
    expect(error.message).toBe('Alias count 3 is over the limit of 2');
  });
});

describe('complexity limit', () => {
  const complexity = (query: string, variables?: Record<string, unknown>) =>
    assertComplexity(schema, parse(query), variables, undefined, 1000);

  function complexityError(run: () => unknown): GraphQLError {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(GraphQLError);
      return err as GraphQLError;
    }
    throw new Error('expected the complexity check to throw');
  }

  it('passes a small query and returns its cost', () => {
    expect(complexity('{ agent(id: "a") { name manager { name } } }')).toBe(4);
  });

  it('multiplies lists by first, rejecting nested pages of 100', () => {
    const error = complexityError(() =>
      complexity('{ agents(first: 100) { tasks(first: 100) { id } } }'),
    );
    // tasks: 100 * (1 + 1) = 200; agents: 100 * (200 + 1) = 20100
    expect(error.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      limit: 1000,
      received: 20100,
    });
    expect(error.message).toBe('Query complexity 20100 is over the limit of 1000');
  });

  it('honours variables for first, and the default page size or the schema default without', () => {
    const query = 'query ($n: Int) { agents(first: $n) { id } }';
    expect(complexity(query, { n: 5 })).toBe(10);
    expect(complexity(query, {})).toBe(40); // 20 * 2
    expect(complexity('{ tasks { id } }')).toBe(100); // first: Int = 50
    // Out of 1..100: costed as 1, so the resolver's precise BAD_USER_INPUT answers instead.
    expect(complexity(query, { n: 1000 })).toBe(2);
    const nested = 'query ($n: Int) { agents(first: $n) { tasks { id } } }';
    const error = complexityError(() => complexity(nested, { n: 100 }));
    expect(error.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(error.message).toMatch(/^Query complexity \d+ is over the limit of 1000$/);
  });

  it("uses a field's own complexity from its extensions (@Field({ complexity }))", () => {
    const priced = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: { report: { type: GraphQLInt, extensions: { complexity: 600 } } },
      }),
    });
    expect(assertComplexity(priced, parse('{ report }'), {}, undefined, 1000)).toBe(600);
    const error = complexityError(() =>
      assertComplexity(priced, parse('{ a: report b: report }'), {}, undefined, 1000),
    );
    expect(error.message).toBe('Query complexity 1200 is over the limit of 1000');
  });

  it('rejects a fragment bomb without aliases by the selections it would walk', () => {
    const error = complexityError(() => complexity(fragmentBomb(20, 'id')));
    expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 1000 });
    expect(error.message).toBe(
      'Query complexity is over the limit of 1000: it has more than 10000 selections',
    );
  });

  it('is worked out once per document and values of the variables it depends on', () => {
    const paged = parse('query ($n: Int, $id: ID!) { agent(id: $id) { tasks(first: $n) { id } } }');
    const skipped = parse(
      'query ($s: Boolean!, $id: ID!) { agent(id: $id) { name @skip(if: $s) } }',
    );
    expect(complexityInputs(schema, paged)).toEqual(['n']);
    expect(complexityInputs(schema, skipped)).toEqual(['s']);
    let computed = 0;
    const counted = (document: DocumentNode, variables: Record<string, unknown>) =>
      rememberedComplexity(schema, document, variables, undefined, () => {
        computed++;
        // A copy of the document: worked out afresh, not from what is remembered.
        return assertComplexity(schema, structuredClone(document), variables, undefined, 1000);
      });
    // Another id: remembered. Another page size or skip: worked out, and answered as it is.
    expect([1, 2, 3].map((i) => counted(paged, { n: 5, id: `a${i}` }))).toEqual([11, 11, 11]);
    expect(counted(paged, { n: 10, id: 'a1' })).toBe(21);
    expect(counted(paged, { id: 'a1' })).toBe(41); // the default page of 20
    expect(computed).toBe(3);
    expect(counted(skipped, { s: false, id: 'a' })).toBe(2);
    expect(counted(skipped, { s: true, id: 'b' })).toBe(1);
    expect(computed).toBe(5);
    // Through assertComplexity too: the same answers as a fresh document's.
    for (const n of [5, 10, 100])
      expect(complexity('query ($n: Int) { agents(first: $n) { id } }', { n })).toBe(
        assertComplexity(
          schema,
          parse('query ($n: Int) { agents(first: $n) { id } }'),
          { n },
          undefined,
          1000,
        ),
      );
  });

  it('works out again, not remembering, a complexity whose variables are long', () => {
    const document = parse('query ($n: Int, $t: String) { agents(first: $n) { id } }');
    const filtered = parse('query ($f: String) { agent(id: "a") { tasks(first: 5) { id } } }');
    expect(complexityInputs(schema, filtered)).toEqual([]);
    let computed = 0;
    const counted = (variables: Record<string, unknown>) =>
      rememberedComplexity(schema, document, variables, undefined, () => ++computed);
    counted({ n: 5, t: 'x'.repeat(2_000) });
    counted({ n: 5, t: 'x'.repeat(2_000) });
    expect(computed).toBe(1); // $t is not an argument of a priced field: not in the key
    const long = parse('query ($n: Int) { agents(first: $n) { id } }');
    const huge = { n: 'x'.repeat(2_000) };
    rememberedComplexity(schema, long, huge, undefined, () => ++computed);
    rememberedComplexity(schema, long, huge, undefined, () => ++computed);
    expect(computed).toBe(3);
  });

  it('does not remember a complexity that failed', () => {
    const document = parse('query ($n: Int) { agents(first: $n) { id } }');
    for (let i = 0; i < 2; i++) {
      const error = complexityError(() =>
        assertComplexity(schema, document, { n: 'many' }, undefined, 1000),
      );
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('reports variables that do not coerce as BAD_USER_INPUT', () => {
    const error = complexityError(() =>
      complexity('query ($n: Int) { agents(first: $n) { id } }', { n: 'many' }),
    );
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/\$n/);
  });
});

describe('token limit', () => {
  const huge = `{ agent(id: "a") { ${Array.from({ length: 3000 }, () => 'id').join(' ')} } }`;

  it('stops parsing past maxTokens, and limitCodeFor recognises the message', () => {
    expect(() => parse(huge, tokenLimitParseOptions(5000))).not.toThrow();
    let message = '';
    try {
      parse(`${huge} ${huge}`, tokenLimitParseOptions(5000));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/5000 tokens/);
    expect(limitCodeFor(message)).toBe('TOO_MANY_TOKENS');
    expect(limitCodeFor('Syntax Error: Expected Name, found "}".')).toBeUndefined();
  });

  it('turns Apollo’s parse failure into TOO_MANY_TOKENS stating the limit', () => {
    const formatted = formatTokenLimitError({
      message: 'Syntax Error: Document contains more that 5000 tokens. Parsing aborted.',
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
    expect(formatted?.extensions).toMatchObject({ code: 'TOO_MANY_TOKENS', limit: 5000 });
    expect(formatted?.message).toBe(
      'Query is over the limit of 5000 tokens: parsing stopped at token 5001',
    );
    expect(
      formatTokenLimitError({ message: 'Syntax Error: Unexpected "}"', extensions: {} }),
    ).toBeUndefined();
  });
});
