import { ApolloServer } from '@apollo/server';
import { GraphQLError, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatError } from '../src/server/format-error.js';
import {
  checkOperation,
  complexityPlugin,
  DEFAULT_LIMITS,
  formatTokenLimitError,
  LimitError,
  limitsEnvSchema,
  limitsFromEnv,
  limitValidationRules,
  RateLimiter,
  requestTimeoutError,
  tokenLimitParseOptions,
  withTimeout,
} from '../src/limits/index.js';
import { schema, nested, aliases } from './utils/limits-schema.js';

/*
 * The limits where they are enforced: Apollo Server, graphql-ws operations, the rate limiter,
 * timeouts, configuration and the nesting scan (limits-rules.test.ts: the rules on their own).
 */

describe('limits wired into Apollo Server', () => {
  const logger = pino({ level: 'silent' });
  const limits = { ...DEFAULT_LIMITS, maxTokens: 500, maxComplexity: 1000 };

  async function run(query: string, variables?: Record<string, unknown>) {
    const apollo = new ApolloServer({
      schema,
      parseOptions: tokenLimitParseOptions(limits.maxTokens),
      validationRules: limitValidationRules(limits),
      plugins: [complexityPlugin(schema, limits.maxComplexity)],
      formatError: (formatted, error) =>
        formatTokenLimitError(formatted) ?? formatError(formatted, error, logger),
    });
    await apollo.start();
    try {
      const response = await apollo.executeOperation({ query, variables });
      const body = response.body as { kind: 'single'; singleResult: { errors?: unknown[] } };
      const errors = (body.singleResult.errors ?? []) as GraphQLFormattedError[];
      return { status: response.http.status, errors };
    } finally {
      await apollo.stop();
    }
  }

  it('answers each limit with its code and HTTP 400', async () => {
    const cases: [string, string, RegExp][] = [
      [nested(11), 'QUERY_TOO_DEEP', /^Query depth 11 is over the limit of 10$/],
      [aliases(31), 'TOO_MANY_ALIASES', /^Alias count 31 is over the limit of 30$/],
      [
        '{ agents(first: 100) { tasks(first: 100) { id } } }',
        'QUERY_TOO_COMPLEX',
        /^Query complexity 20100 is over the limit of 1000$/,
      ],
      [aliases(300), 'TOO_MANY_TOKENS', /over the limit of 500 tokens: .* token 501$/],
    ];
    for (const [query, code, message] of cases) {
      const { status, errors } = await run(query);
      expect(status, code).toBe(400);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.extensions?.code).toBe(code);
      expect(errors[0]?.message).toMatch(message);
    }
  });

  it('runs a query within the limits', async () => {
    const query = 'query ($n: Int) { agent(id: "a") { tasks(first: $n) { id } } }';
    const { status, errors } = await run(query, { n: 5 });
    expect(errors).toEqual([]);
    expect(status ?? 200).toBe(200);
  });
});

describe('limits for graphql-ws operations (checkOperation)', () => {
  const limits = { ...DEFAULT_LIMITS, maxTokens: 500, maxComplexity: 1000 };
  const codes = (result: ExecutionArgs | readonly GraphQLError[]) =>
    Array.isArray(result) ? result.map((e: GraphQLError) => e.extensions.code) : [];

  it('returns execution arguments for an operation within the limits', () => {
    const result = checkOperation(
      schema,
      { query: 'query Q($n: Int) { agents(first: $n) { id } }', variables: { n: 3 } },
      limits,
    );
    expect(Array.isArray(result)).toBe(false);
    expect(result).toMatchObject({ operationName: undefined, variableValues: { n: 3 } });
  });

  it('returns coded errors instead of throwing for every kind of bad operation', () => {
    expect(codes(checkOperation(schema, { query: '{ agent(' }, limits))).toEqual([
      'GRAPHQL_PARSE_FAILED',
    ]);
    expect(codes(checkOperation(schema, { query: aliases(300) }, limits))).toEqual([
      'TOO_MANY_TOKENS',
    ]);
    expect(codes(checkOperation(schema, { query: '{ nope }' }, limits))).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
    ]);
    expect(codes(checkOperation(schema, { query: nested(11) }, limits))).toEqual([
      'QUERY_TOO_DEEP',
    ]);
    const complex = { query: '{ agents(first: 100) { tasks(first: 100) { id } } }' };
    const [error] = checkOperation(schema, complex, limits) as readonly GraphQLError[];
    expect(error?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', received: 20100 });
    expect(error?.toJSON().extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 1000 });
  });
});

describe('RateLimiter', () => {
  function clock(start = 1_000_000) {
    let t = start;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  }

  it('allows a burst up to the per-minute capacity, then says when to retry', () => {
    const c = clock();
    const limiter = new RateLimiter(3, c.now);
    expect([1, 2, 3].map(() => limiter.take('k').allowed)).toEqual([true, true, true]);
    // 3 per minute: one request every 20 s
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 20 });
    c.advance(5_000);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 15 });
  });

  it('refills continuously, never above capacity', () => {
    const c = clock();
    const limiter = new RateLimiter(60, c.now);
    for (let i = 0; i < 60; i++) expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k').allowed).toBe(false);
    c.advance(1_000);
    expect(limiter.take('k')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(limiter.take('k').allowed).toBe(false);
    c.advance(10 * 60_000);
    for (let i = 0; i < 60; i++) expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('keeps a separate bucket per key', () => {
    const limiter = new RateLimiter(1, clock().now);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('forgets buckets that have been full for over a minute', () => {
    const c = clock();
    const limiter = new RateLimiter(60, c.now);
    limiter.take('idle'); // full again 1 s later
    c.advance(30_000);
    limiter.take('busy');
    c.advance(31_500); // idle has been full for 60.5 s, busy for 30.5 s
    limiter.take('new');
    expect(limiter.size).toBe(2);
    for (let i = 0; i < 60; i++) expect(limiter.take('idle').allowed).toBe(true);
  });

  it('holds at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = new RateLimiter(1, clock().now, { maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    expect(limiter.take('a').allowed).toBe(false); // a is now the most recently used
    expect(limiter.take('c').allowed).toBe(true); // evicts b
    expect(limiter.size).toBe(2);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('refuses a nonsensical rate', () => {
    expect(() => new RateLimiter(0)).toThrow(
      'perMinute must be a number greater than 0, but got 0',
    );
  });
});

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles with the promise when it is in time, and clears its timer', async () => {
    vi.useFakeTimers();
    await expect(withTimeout(Promise.resolve(5), 1000, () => new Error('late'))).resolves.toBe(5);
    await expect(
      withTimeout(Promise.reject(new Error('own failure')), 1000, () => new Error('late')),
    ).rejects.toThrow('own failure');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the given error when the promise is late', async () => {
    vi.useFakeTimers();
    const late = new Promise<number>((resolve) => setTimeout(() => resolve(1), 20_000));
    const result = withTimeout(late, 15_000, () => requestTimeoutError(15_000));
    const assertion = expect(result).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
      message: 'Request ran over the time limit of 15000 ms',
      details: { limit: 15_000 },
    });
    await vi.advanceTimersByTimeAsync(15_000);
    await assertion;
    expect((await result.catch((e: unknown) => e)) instanceof LimitError).toBe(true);
  });
});

describe('limits configuration', () => {
  it('defaults every variable from DEFAULT_LIMITS', () => {
    expect(limitsFromEnv(limitsEnvSchema.parse({}))).toEqual(DEFAULT_LIMITS);
  });

  it('reads positive whole numbers from strings', () => {
    const limits = limitsFromEnv(
      limitsEnvSchema.parse({ MAX_QUERY_DEPTH: '12', RATE_LIMIT_PER_MINUTE: '60' }),
    );
    expect(limits).toMatchObject({ maxDepth: 12, rateLimitPerMinute: 60, maxAliases: 30 });
  });

  it.each(['0', '-3', '1.5', 'lots'])('rejects %s with a message saying what it must be', (v) => {
    const result = limitsEnvSchema.safeParse({ MAX_QUERY_COMPLEXITY: v });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path).toEqual(['MAX_QUERY_COMPLEXITY']);
    expect(issue.message).toBe('must be a whole number greater than 0');
  });
});

describe('the nesting scan before parsing', () => {
  it('counts braces and brackets, not those inside strings, block strings or comments', async () => {
    const { nestingDepth } = await import('../src/limits/nesting.js');
    expect(nestingDepth('{ a { b(x: [[1]]) } }')).toBe(4);
    expect(nestingDepth('{ a(s: "{{{{[[[[") # {{{{{{\n }')).toBe(1);
    expect(nestingDepth('{ a(s: """ {{{ \\""" {{ """) }')).toBe(1);
  });

  it('refuses a document nested far past the depth limit with QUERY_TOO_DEEP', async () => {
    const { assertParseableNesting } = await import('../src/limits/nesting.js');
    expect(() => assertParseableNesting(`${'{ a '.repeat(50)}${'}'.repeat(50)}`, 10)).toThrow(
      'Document nesting 50 is over the limit of 40; the query depth limit is 10',
    );
    expect(() => assertParseableNesting(`${'{ a '.repeat(40)}${'}'.repeat(40)}`, 10)).not.toThrow();
  });
});
