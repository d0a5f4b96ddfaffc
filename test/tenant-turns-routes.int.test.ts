import { TaskState, type Task } from '@a2a-js/sdk';
import { ClientFactory, type Client as A2AClient } from '@a2a-js/sdk/client';
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { textRequest } from '../src/a2a/remote.js';
import { call, connect, text } from './utils/mcp-client.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { idle, until, whileTurnHeld as heldTurn } from './utils/tenant-turns.js';

// "One tenant can never slow or stop another": /graphql waited for its tenant's turn, but /mcp,
// /a2a and /documents ran their operations at once, so a tenant could go round its turns there.

describe('a tenant’s turns on /mcp, /a2a and /documents', () => {
  let server: TestServer;
  let other: TestServer;
  let locker: Graph;
  let mcp: McpClient;
  let a2a: A2AClient;
  let agentId: string;
  const as = (key: string) => ({ serviceParameters: { Authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    server = await startTestServer(undefined, {
      tenantMaxConcurrentRequests: 1,
      tenantMaxQueuedRequests: 1,
    });
    other = await startTestServer();
    locker = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    const created = await server.gql<{ createAgent: { id: string } }, never>(
      'mutation { createAgent(input: { name: "Held", role: MASTER_OPERATOR }) { id } }',
    );
    agentId = created.data!.createAgent.id;
    await server.gql(
      'mutation { createAgent(input: { name: "Chief", role: CHIEF_OF_STAFF }) { id } }',
    );
    mcp = await connect(server, server.adminKey);
    a2a = await new ClientFactory().createFromUrl(server.url.replace(/\/graphql$/, ''));
  });
  afterAll(async () => {
    await mcp?.close();
    await locker?.close();
    await server?.stop();
    await other?.stop();
  });

  const whileTurnHeld = <T>(check: () => Promise<T>) => heldTurn(server, locker, agentId, check);

  const upload = (key: string, target = server) => {
    const form = new FormData();
    form.append('file', new Blob(['Trams run on rails.'], { type: 'text/plain' }), 'trams.txt');
    return fetch(target.url.replace(/\/graphql$/, '/documents'), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
  };

  it('makes an MCP tool call wait for a turn, and refuses one past the queue', async () => {
    const waited = await whileTurnHeld(async () => {
      const waiting = call(mcp, 'list_agents', {});
      await until(() => server.tenantSlots.waiting(server.tenantId) === 1, 'the tool to wait');
      const refused = await call(mcp, 'list_agents', {});
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/^LIMIT_EXCEEDED: .*TENANT_MAX_CONCURRENT_REQUESTS/);
      // Another tenant is answered at once.
      const theirs = await connect(other, other.adminKey);
      expect((await call(theirs, 'list_agents', {})).isError).toBeFalsy();
      await theirs.close();
      return { waiting };
    });
    // The waiting call runs once the turn comes free, then its audit event takes one.
    expect(text(await waited.waiting)).toContain('Renamed');
    await until(() => idle(server), 'the turns back');
  });

  it('makes an A2A call and a document upload wait for a turn, and refuses one past it', async () => {
    const waited = await whileTurnHeld(async () => {
      const sent = a2a.sendMessage(textRequest('Waits\nFor its turn.', true), as(server.adminKey));
      await until(() => server.tenantSlots.waiting(server.tenantId) === 1, 'the A2A call to wait');
      const refused = await upload(server.adminKey);
      expect(refused.status).toBe(503);
      const body = (await refused.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('LIMIT_EXCEEDED');
      // Refused as a call past the queue is (its task store takes turns too: no REJECTED task
      // could be stored), not as an internal error.
      await expect(
        a2a.sendMessage(textRequest('Refused\nNo room.', true), as(server.adminKey)),
      ).rejects.toThrow(/^LIMIT_EXCEEDED: .*TENANT_MAX_CONCURRENT_REQUESTS/);
      expect((await upload(other.adminKey, other)).status).toBe(201);
      return { sent };
    });
    const sent = (await waited.sent) as Task;
    expect(sent.status?.state).toBe(TaskState.TASK_STATE_SUBMITTED);
    // The A2A task is followed on (its reads take turns too), then every turn comes back.
    await until(() => server.tenantSlots.inFlight(server.tenantId) === 0, 'the turns back');
  });
});
