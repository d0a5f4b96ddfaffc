import { TaskState, type Task } from '@a2a-js/sdk';
import { ClientFactory, type Client as A2AClient } from '@a2a-js/sdk/client';
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { textRequest } from '../src/a2a/remote.js';
import { Role } from '../src/domain/auth.js';
import { call, connect, text } from './utils/mcp-client.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { idle, until, whileTurnHeld } from './utils/tenant-turns.js';

// "One tenant can never slow or stop another": the operations of /mcp, /a2a and /documents
// waited for their tenant's turn, but the A2A task store's reads and writes and the audit
// events of the calls reached Neo4j at once, so a tenant flooding GetTask (or calls answered
// without an operation) took connections past its share.

describe('the work of a call besides its operations', () => {
  let server: TestServer;
  let locker: Graph;
  let mcp: McpClient;
  let a2a: A2AClient;
  let agentId: string;
  const as = (key: string) => ({ serviceParameters: { Authorization: `Bearer ${key}` } });
  const waiting = () => server.tenantSlots.waiting(server.tenantId);
  const held = <T>(check: () => Promise<T>) => whileTurnHeld(server, locker, agentId, check);

  beforeAll(async () => {
    server = await startTestServer(undefined, {
      tenantMaxConcurrentRequests: 1,
      tenantMaxQueuedRequests: 1,
    });
    locker = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    const created = await server.gql<{ createAgent: { id: string } }, never>(
      'mutation { createAgent(input: { name: "Held", role: MASTER_OPERATOR }) { id } }',
    );
    agentId = created.data!.createAgent.id;
    mcp = await connect(server, server.adminKey);
    a2a = await new ClientFactory().createFromUrl(server.url.replace(/\/graphql$/, ''));
  });
  afterAll(async () => {
    await mcp?.close();
    await locker?.close();
    await server?.stop();
  });

  /** The tenant's audit events of `operation`: their outcomes and codes. */
  async function audited(operation: string) {
    const { data } = await server.gql<
      { auditEvents: { nodes: { outcome: string; code: string | null }[] } },
      never
    >(`{ auditEvents(filter: { operation: "${operation}" }) { nodes { outcome code } } }`);
    return data!.auditEvents.nodes;
  }

  it('makes an A2A task read from the store wait for a turn', async () => {
    // REJECTED (a VIEWER may not submit): GetTask reads the store alone, no workflow.
    const viewer = await server.keyFor(Role.VIEWER);
    const sent = (await a2a.sendMessage(
      textRequest('Refused\nBy role.', true),
      as(viewer),
    )) as Task;
    expect(sent.status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    const read = await held(async () => {
      const got = a2a.getTask({ tenant: '', id: sent.id, historyLength: undefined }, as(viewer));
      await until(() => waiting() === 1, 'the task read to wait', 3_000);
      return { got };
    });
    expect((await read.got).status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    await until(() => idle(server), 'the turns back');
  });

  it('makes the audit event of an MCP call that ran no operation wait for a turn', async () => {
    await held(async () => {
      // Refused before any operation runs: answered at once, its audit event waits.
      const refused = await call(mcp, 'approve', { taskId: 'nothing', what: 'TOOL_CALL' });
      expect(text(refused)).toBe('BAD_USER_INPUT: what: TOOL_CALL needs callId');
      await until(() => waiting() === 1, 'the audit event to wait', 3_000);
    });
    await until(() => idle(server), 'the audit event written');
    expect(await audited('mcp.approve')).toEqual([{ outcome: 'FAILURE', code: 'BAD_USER_INPUT' }]);
  });

  it('makes the audit event of an A2A call with bad params wait for a turn', async () => {
    await held(async () => {
      const res = await fetch(server.url.replace(/\/graphql$/, '/a2a'), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.adminKey}`,
          'content-type': 'application/json',
          'a2a-version': '1.0',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: null }),
      });
      const body = (await res.json()) as { error: { code: number } };
      expect(body.error.code).toBe(-32602);
      await until(() => waiting() === 1, 'the audit event to wait', 3_000);
    });
    await until(() => idle(server), 'the audit event written');
    expect(await audited('a2a.SendMessage')).toContainEqual({
      outcome: 'FAILURE',
      code: 'BAD_USER_INPUT',
    });
  });

  it('makes a refused upload’s audit event wait for a turn before the refusal', async () => {
    const viewer = await server.keyFor(Role.VIEWER);
    const form = new FormData();
    form.append('file', new Blob(['Trams run on rails.'], { type: 'text/plain' }), 'trams.txt');
    const answered = await held(async () => {
      const upload = fetch(server.url.replace(/\/graphql$/, '/documents'), {
        method: 'POST',
        headers: { authorization: `Bearer ${viewer}` },
        body: form,
      });
      await until(() => waiting() === 1, 'the refusal’s audit event to wait', 3_000);
      return { upload };
    });
    expect((await answered.upload).status).toBe(403);
    expect(await audited('uploadDocument')).toEqual([{ outcome: 'FORBIDDEN', code: 'FORBIDDEN' }]);
  });

  it('writes no audit event for a call its tenant had no turn for, as over /graphql', async () => {
    await held(async () => {
      const queued = call(mcp, 'list_agents', {});
      await until(() => waiting() === 1, 'the tool to wait');
      const refused = await call(mcp, 'list_agents', {});
      expect(text(refused)).toMatch(/^LIMIT_EXCEEDED: /);
      return { queued };
    });
    await until(() => idle(server), 'the turns back');
    // The call that waited is audited; the one refused for a turn is not (its event too found
    // the queue full), so a flood of refused calls writes nothing.
    expect(await audited('mcp.list_agents')).toEqual([{ outcome: 'SUCCESS', code: null }]);
  });
});
