import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { generateApiKey } from '../src/auth/keys.js';
import { connectGraph, type Graph } from '../graph/graph.js';
import { DEFAULT_LIMITS } from '../src/limits/index.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { deleteTenant } from './utils/server.js';

const INTROSPECTION_OFF =
  'Introspection is off on a production server (NODE_ENV=production): ' +
  'the schema is schema/schema.graphql of the release it runs';

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
    // Apollo's own words told the client to "pass introspection: true to ApolloServer".
    expect(body.errors[0]?.message).toBe(INTROSPECTION_OFF);
  });

  it('serves no Sandbox landing page', async () => {
    // The request that gets the Sandbox outside production (health.int.test.ts) gets a GraphQL
    // refusal here: no page at all, and not a server error either.
    const res = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text).not.toMatch(/sandbox|<html/i);
    const body = JSON.parse(text) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
  });

  it('suggests no field names ("Did you mean") that would enumerate the schema (issue 9)', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ healht { version } }' }),
    });
    const body = (await res.json()) as {
      errors: { message: string; extensions: { code: string } }[];
    };
    expect(body.errors[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0]?.message).toBe('Cannot query field "healht" on type "Query".');
  });

  it('suggests no field names over graphql-ws either', async () => {
    const tenantId = `test-${randomUUID()}`;
    const key = generateApiKey();
    await server.services.auth.ensureAdminKey(tenantId, key, 'production test');
    try {
      const messages = await new Promise<string[]>((resolve, reject) => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        socket.on('open', () =>
          socket.send(
            JSON.stringify({
              type: 'connection_init',
              payload: { authorization: `Bearer ${key}` },
            }),
          ),
        );
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as {
            type: string;
            payload?: { message: string }[];
          };
          if (message.type === 'connection_ack') {
            const query = 'subscription { agentStatusChangd { agentId } }';
            socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query } }));
          } else if (message.type === 'error') {
            socket.close(1000);
            resolve((message.payload ?? []).map((e) => e.message));
          }
        });
        socket.on('error', reject);
      });
      expect(messages).toEqual(['Cannot query field "agentStatusChangd" on type "Subscription".']);
    } finally {
      await deleteTenant(graph, tenantId);
      await graph.write((tx) =>
        tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
      );
    }
  });
});
