import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { connectGraph, type Graph } from '../graph/graph.js';
import { DEFAULT_LIMITS } from '../src/limits/index.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';

describe('a production server', () => {
  let graph: Graph;
  let server: RunningServer;
  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    server = await startServer({
      config: { env: 'production', host: '127.0.0.1', port: 0, limits: DEFAULT_LIMITS },
      graph,
      logger: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await server.close();
    await graph.close();
  });

  it('has introspection off', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery() }),
    });
    const body = (await res.json()) as {
      errors: { message: string; extensions: { code: string } }[];
    };
    expect(body.errors[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0]?.message).toMatch(/introspection/i);
  });

  it('serves no Sandbox landing page', async () => {
    const res = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(await res.text()).not.toMatch(/sandbox/i);
  });
});
