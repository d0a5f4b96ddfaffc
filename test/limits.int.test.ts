import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { metricNow } from './utils/prom-text.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const nested = (depth: number) =>
  `{ agents { nodes { ${'tasks { subtasks { '.repeat(Math.ceil(depth / 2))}id${' } }'.repeat(Math.ceil(depth / 2))} } } }`;

const DeepWatch = graphql(`
  subscription DeepWatch {
    taskUpdated {
      task {
        subtasks {
          subtasks {
            subtasks {
              subtasks {
                subtasks {
                  subtasks {
                    subtasks {
                      subtasks {
                        subtasks {
                          id
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
`);

describe('limits against abuse', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, {
      maxDepth: 8,
      maxAliases: 5,
      maxTokens: 400,
      maxComplexity: 1000,
    });
  });
  afterAll(() => server.stop());

  const refusal = async (query: string) => {
    const res = await server.gql(query);
    expect(res.status).toBe(400);
    return res.errors?.[0];
  };

  it('refuse a query too deep, naming the limit and the depth', async () => {
    const error = await refusal(nested(12));
    expect(error?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 8 });
    expect(error?.message).toMatch(/^Query depth \d+ is over the limit of 8$/);
  });

  it('refuse too many aliases', async () => {
    const aliases = Array.from({ length: 6 }, (_, i) => `a${i}: viewer { keyId }`).join(' ');
    const error = await refusal(`{ ${aliases} }`);
    expect(error?.extensions).toMatchObject({ code: 'TOO_MANY_ALIASES', limit: 5, received: 6 });
  });

  it('refuse a query too complex', async () => {
    const error = await refusal(
      '{ agents(first: 100) { nodes { tasks(first: 100) { subtasks { dependencies { id } } } } } }',
    );
    expect(error?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(error?.message).toMatch(/^Query complexity \d+ is over the limit of 1000$/);
  });

  it('refuse a document with too many tokens', async () => {
    const error = await refusal(`{ ${'viewer { keyId } '.repeat(200)} }`);
    expect(error?.extensions?.code).toBe('TOO_MANY_TOKENS');
    expect(error?.message).toContain('over the limit of 400 tokens');
  });

  it('hold subscriptions to the same limits over WebSocket', async () => {
    const sub = await subscribe(server, DeepWatch);
    try {
      const res = await sub.waitForNext();
      expect(res.errors?.[0]?.message).toMatch(/^Query depth \d+ is over the limit of 8$/);
    } finally {
      await sub.close();
    }
  });

  it('still answer a normal query', async () => {
    const res = await server.gql('{ viewer { role } }');
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ viewer: { role: 'ADMIN' } });
  });
});

describe('the rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { rateLimitPerMinute: 5 });
  });
  afterAll(() => server.stop());

  it('refuses a key over its rate with 429 and says when to retry, other keys unaffected', async () => {
    const refusedBefore = await metricNow('rate_limited_total', { scope: 'key' });
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await server.gql('{ viewer { keyId } }');
      codes.push(res.errors?.[0]?.extensions?.code as string | undefined);
      if (i === 6) {
        expect(res.status).toBe(429);
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 5 });
        expect(res.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
      }
    }
    expect(codes.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(codes.slice(5)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    // Each refusal is counted, by the limit's scope (issue 17).
    expect((await metricNow('rate_limited_total', { scope: 'key' })) - refusedBefore).toBe(2);
    const other = await server.keyFor('VIEWER' as never);
    const res = await server.gql('{ viewer { role } }', undefined, {
      authorization: `Bearer ${other}`,
    });
    expect(res.errors).toBeUndefined();
  });
});

describe('the request timeout and body size', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { requestTimeoutMs: 1, maxBodyBytes: 2_000 });
  });
  afterAll(() => server.stop());

  it('answers a request over its time with REQUEST_TIMEOUT (503)', async () => {
    const res = await server.gql('{ agents(first: 100) { nodes { id capabilities { name } } } }');
    expect(res.status).toBe(503);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'REQUEST_TIMEOUT', limit: 1 });
  });

  it('refuses a body over the limit with 413 before parsing it', async () => {
    const res = await server.gql(`{ viewer { keyId } } # ${'x'.repeat(3_000)}`);
    expect(res.status).toBe(413);
    expect(res.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('CSRF prevention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('blocks a simple cross-site GET and accepts it with a preflight header', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ viewer { role } }')}`;
    const headers = { authorization: `Bearer ${server.adminKey}` };
    const blocked = await fetch(url, { headers });
    expect(blocked.status).toBe(400);
    expect(await blocked.text()).toContain('Cross-Site Request Forgery');
    const allowed = await fetch(url, {
      headers: { ...headers, 'apollo-require-preflight': 'true' },
    });
    expect(allowed.status).toBe(200);
  });
});
