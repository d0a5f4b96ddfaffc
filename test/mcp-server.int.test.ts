import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { Role } from '../src/domain/auth.js';
import { LIMITS } from '../src/domain/validate.js';
import { DEFAULT_LIMITS } from '../src/limits/index.js';
import { startScheduler } from './utils/engine.js';
import { call, connect, text } from './utils/mcp-client.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** How long the offline agents may take for a whole workflow on a loaded machine. */
const WORKFLOW_MS = 90_000;

/** A resource's JSON text, parsed. */
const json = (r: { contents: unknown[] }) => JSON.parse((r.contents[0] as { text: string }).text);

interface WorkflowOut {
  taskId: string;
  status: string;
  result: string | null;
  finished: boolean;
  steps: { id: string; status: string; dependsOn: string[] }[];
}

describe('the platform as an MCP server', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let other: TestServer;
  let admin: Client;
  let stopScheduler: () => Promise<void>;
  let taskId = '';

  beforeAll(async () => {
    server = await startTestServer();
    other = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    stopScheduler = () => scheduler.stop();
    admin = await connect(server, server.adminKey);
  });
  afterAll(async () => {
    await admin?.close();
    await stopScheduler?.();
    await server?.stop();
    await other?.stop();
  });

  it('lists its tools with input and output schemas and annotations, and its resources', async () => {
    const { tools } = await admin.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual([
      'approve',
      'chat_with_agent',
      'list_agents',
      'rate_task',
      'reject',
      'search_knowledge',
      'search_memory',
      'submit_task',
      'task_status',
    ]);
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
      expect(t.description?.length).toBeGreaterThan(20);
    }
    expect(byName.get('submit_task')!.annotations).toMatchObject({ readOnlyHint: false });
    expect(byName.get('task_status')!.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.get('reject')!.annotations).toMatchObject({ destructiveHint: true });
    expect(byName.get('submit_task')!.inputSchema.required).toEqual(['title']);

    const { resourceTemplates } = await admin.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate).sort()).toEqual([
      'task://{taskId}/result',
      'workflow://{taskId}',
    ]);
    const { resources } = await admin.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['agents://organisation']);
  });

  it('submits a task, follows it to completion with progress, and reads its result', async () => {
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const watchers = server.pubsub.subscriberCount('TASK_UPDATED');
    const res = (await admin.callTool(
      {
        name: 'submit_task',
        arguments: {
          title: 'Electric bike market brief',
          description: 'Research the market for electric bikes in Europe. Then write a brief.',
          waitSeconds: WORKFLOW_MS / 1_000,
        },
      },
      undefined,
      { timeout: WORKFLOW_MS + 10_000, onprogress: (p) => progress.push(p) },
    )) as CallToolResult;
    expect(res.isError, text(res)).toBeFalsy();
    const out = res.structuredContent as unknown as WorkflowOut;
    taskId = out.taskId;
    expect(out).toMatchObject({ status: 'COMPLETED', finished: true });
    expect(out.result?.length).toBeGreaterThan(0);
    expect(out.steps.length).toBeGreaterThanOrEqual(2);
    expect(out.steps.every((s) => s.status === 'COMPLETED')).toBe(true);
    expect(out.steps.some((s) => s.dependsOn.length > 0)).toBe(true);
    // Steps ended of all steps, as they ended: the last report is all of them, and the end.
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({
      progress: out.steps.length,
      total: out.steps.length,
      message: 'Electric bike market brief: COMPLETED',
    });
    const counts = progress.map((p) => p.progress);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // It followed the workflow's events; none is heard once the call answered.
    expect(server.pubsub.subscriberCount('TASK_UPDATED')).toBe(watchers);
    expect(JSON.parse(text(res))).toEqual(out);

    // The same workflow through task_status and the resources.
    const status = await call(admin, 'task_status', { taskId });
    expect(status.structuredContent).toEqual(out);
    const result = await admin.readResource({ uri: `task://${taskId}/result` });
    expect(json(result)).toMatchObject({
      id: taskId,
      status: 'COMPLETED',
      result: out.result,
    });
    const dag = await admin.readResource({ uri: `workflow://${taskId}` });
    expect(json(dag)).toEqual(out);

    const rated = await call(admin, 'rate_task', { taskId, score: 0.9, comment: 'useful' });
    expect(rated.isError, text(rated)).toBeFalsy();
    expect(rated.structuredContent).toMatchObject({ score: 0.9, verdict: 'PASS' });

    // Every call is in the audit trail, as mcp.<tool>, besides the mutations' own events.
    const audit = await server.gql(
      `query { auditEvents(filter: { operation: "mcp.submit_task" }, first: 10) { nodes { outcome targetIds actor } } }`,
    );
    expect(audit.errors).toBeUndefined();
    expect(audit.data).toEqual({
      auditEvents: { nodes: [{ outcome: 'SUCCESS', targetIds: [taskId], actor: 'test admin' }] },
    });
  });

  it('answers the agents, knowledge and a chat reply', async () => {
    const agents = await call(admin, 'list_agents', {});
    const names = (agents.structuredContent as { agents: { name: string }[] }).agents.map(
      (a) => a.name,
    );
    expect(names.sort()).toEqual(['Chief', 'Researcher', 'Writer']);
    const listed = await admin.readResource({ uri: 'agents://organisation' });
    expect(json(listed)).toHaveLength(3);

    const recorded = await server.gql(
      `mutation { recordKnowledgeBatch(inputs: [{ kind: FACT, content: "Cargo e-bikes grew fastest in 2025" }]) { id } }`,
    );
    expect(recorded.errors).toBeUndefined();
    const found = await call(admin, 'search_knowledge', { query: 'cargo e-bikes' });
    const hits = (found.structuredContent as { hits: { content: string }[] }).hits;
    expect(hits.map((h) => h.content)).toContain('Cargo e-bikes grew fastest in 2025');
    const remembered = await call(admin, 'search_memory', { query: 'cargo e-bikes' });
    expect(remembered.isError, text(remembered)).toBeFalsy();
    const memory = (remembered.structuredContent as { hits: { kind: string; text: string }[] })
      .hits;
    expect(memory).toContainEqual(
      expect.objectContaining({ kind: 'KNOWLEDGE', text: 'Cargo e-bikes grew fastest in 2025' }),
    );

    const chiefId = (
      agents.structuredContent as { agents: { id: string; name: string }[] }
    ).agents.find((a) => a.name === 'Chief')!.id;
    const chat = await call(
      admin,
      'chat_with_agent',
      { agentId: chiefId, message: 'Hello' },
      90_000,
    );
    expect(chat.isError, text(chat)).toBeFalsy();
    const reply = chat.structuredContent as { reply: string | null; conversationId: string };
    expect(reply.reply?.length).toBeGreaterThan(0);
    expect(reply.conversationId).toBeTruthy();
  });

  it("takes search queries as long as GraphQL's (LIMITS.search), and refuses longer ones itself", async () => {
    const { tools } = await admin.listTools();
    for (const name of ['search_knowledge', 'search_memory']) {
      const query = tools.find((t) => t.name === name)!.inputSchema.properties!.query;
      expect(query, name).toMatchObject({ maxLength: LIMITS.search });
      const longest = 'cargo e-bikes '.repeat(LIMITS.search).slice(0, LIMITS.search);
      const fits = await call(admin, name, { query: longest });
      expect(fits.isError, text(fits)).toBeFalsy();
      const over = await call(admin, name, { query: `${longest}x` });
      expect(over.isError).toBe(true);
      expect(text(over)).toMatch(/query/);
    }
  });

  it('approves and rejects a plan held for approval', async () => {
    const heldPlan = async (title: string) => {
      const submitted = await call(admin, 'submit_task', { title, planApproval: true });
      expect(submitted.isError, text(submitted)).toBeFalsy();
      const id = (submitted.structuredContent as unknown as WorkflowOut).taskId;
      // Fails when nothing moves for a minute, not after a fixed time: a loaded machine plans slowly.
      return untilDone({
        read: async () =>
          (await call(admin, 'task_status', { taskId: id }))
            .structuredContent as unknown as WorkflowOut,
        done: (now) => now.status === 'AWAITING_APPROVAL',
        progress: (now) => `${now.status} ${now.steps.map((s) => s.status).join()}`,
        stallMs: 60_000,
        everyMs: 500,
        what: `the plan of "${title}" was never held for approval`,
      });
    };

    const approved = await heldPlan('Summarise the brief');
    expect(approved.steps.length).toBeGreaterThan(0);
    const yes = await call(admin, 'approve', { taskId: approved.taskId, what: 'PLAN' });
    expect(yes.isError, text(yes)).toBeFalsy();
    const done = await call(
      admin,
      'task_status',
      { taskId: approved.taskId, waitSeconds: WORKFLOW_MS / 1_000 },
      WORKFLOW_MS + 10_000,
    );
    expect(done.structuredContent).toMatchObject({ status: 'COMPLETED', finished: true });

    const rejected = await heldPlan('Translate the brief');
    const no = await call(admin, 'reject', {
      taskId: rejected.taskId,
      what: 'PLAN',
      reason: 'Ask the writer first',
    });
    expect(no.isError, text(no)).toBeFalsy();
    const after = (await call(admin, 'task_status', { taskId: rejected.taskId }))
      .structuredContent as unknown as WorkflowOut;
    // The rejected plan's steps are CANCELLED and off the root (the Chief of Staff may have
    // planned again already: the root's steps now are the new plan's).
    expect(after.steps.some((s) => rejected.steps.some((r) => r.id === s.id))).toBe(false);
    for (const step of rejected.steps) {
      const read = await server.gql(`query($id: ID!) { task(id: $id) { status } }`, {
        id: step.id,
      } as never);
      expect(read.data).toEqual({ task: { status: 'CANCELLED' } });
    }
    // Nothing waits any more: approving again says so, with GraphQL's code.
    const again = await call(admin, 'approve', { taskId: approved.taskId, what: 'PLAN' });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/^CONFLICT: /);
  });

  it('refuses as GraphQL does: a bad key, a VIEWER writing, another tenant’s task, bad input', async () => {
    await expect(connect(server, 'not-a-key')).rejects.toThrow(/401|UNAUTHENTICATED/);

    const viewer = await connect(server, await server.keyFor(Role.VIEWER));
    try {
      const refused = await call(viewer, 'submit_task', { title: 'Not allowed' });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/^FORBIDDEN: .*needs the OPERATOR role/);
      // Reading is a VIEWER's right.
      const read = await call(viewer, 'task_status', { taskId });
      expect(read.isError, text(read)).toBeFalsy();
    } finally {
      await viewer.close();
    }

    const stranger = await connect(other, other.adminKey);
    try {
      const foreign = await call(stranger, 'task_status', { taskId });
      const unknown = await call(stranger, 'task_status', { taskId: 'no-such-task' });
      expect(foreign.isError).toBe(true);
      expect(text(foreign)).toMatch(/^NOT_FOUND: /);
      // The same answer as for an id that exists nowhere: nothing reveals the other tenant.
      expect(text(foreign).replace(taskId, 'ID')).toBe(text(unknown).replace('no-such-task', 'ID'));
      // The SDK's client prefixes "MCP error <code>: " once; the server's message had it too.
      const read = stranger.readResource({ uri: `task://${taskId}/result` });
      await expect(read).rejects.toThrow(/^MCP error -32602: NOT_FOUND: Task ".*" does not exist/);
    } finally {
      await stranger.close();
    }

    // Input the schema refuses never reaches GraphQL; input GraphQL refuses says what to fix.
    const tooLong = await call(admin, 'submit_task', { title: 'x'.repeat(201) });
    expect(tooLong.isError).toBe(true);
    const badScore = await call(admin, 'rate_task', { taskId, score: 2 });
    expect(badScore.isError).toBe(true);
    expect(text(badScore)).toMatch(/score/);
  });

  it('challenges a missing key, another scheme and a bad key with WWW-Authenticate: Bearer (RFC 6750), as /graphql does', async () => {
    const mcp = server.url.replace(/\/graphql$/, '/mcp');
    const post = (url: string, headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ agents { totalCount } }' }),
      });
    const keyless = await post(mcp, {});
    expect(keyless.status).toBe(401);
    expect(keyless.headers.get('www-authenticate')).toBe('Bearer');
    // A key was sent and is no key: RFC 6750 names the error.
    const bad = { authorization: 'Bearer ap_not_a_key' };
    for (const url of [mcp, server.url]) {
      const refused = await post(url, bad);
      expect(refused.status, url).toBe(401);
      expect(refused.headers.get('www-authenticate'), url).toBe('Bearer error="invalid_token"');
      // Another scheme sends no Bearer key: RFC 6750 (3.1) names no error for it.
      const basic = await post(url, { authorization: 'Basic dXNlcjpwYXNz' });
      expect(basic.status, url).toBe(401);
      expect(basic.headers.get('www-authenticate'), url).toBe('Bearer');
    }
  });

  it('answers GET with 405 and a body that is not JSON with 400, as JSON-RPC errors', async () => {
    const url = server.url.replace(/\/graphql$/, '/mcp');
    const auth = { authorization: `Bearer ${server.adminKey}` };
    const get = await fetch(url, { headers: auth });
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ error: { data: { code: 'METHOD_NOT_ALLOWED' } } });
    const bad = await fetch(url, {
      method: 'POST',
      headers: {
        ...auth,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: -32700 } });

    const keyless = await fetch(url, { method: 'POST', body: '{}' });
    expect(keyless.status).toBe(401);
    expect(keyless.headers.get('www-authenticate')).toBe('Bearer');
    expect(await keyless.json()).toMatchObject({ error: { data: { code: 'UNAUTHENTICATED' } } });

    const huge = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(DEFAULT_LIMITS.maxBodyBytes) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { data: { code: 'PAYLOAD_TOO_LARGE' } } });
  });
});

describe('an MCP tool call past the request timeout', () => {
  it('answers REQUEST_TIMEOUT, as GraphQL does, not a generic failure', async () => {
    // Every GraphQL operation a tool runs is held to the request timeout; 1 ms is never enough.
    const slow = await startTestServer(undefined, { requestTimeoutMs: 1 });
    const client = await connect(slow, slow.adminKey);
    try {
      const res = await call(client, 'list_agents', {});
      expect(res.isError).toBe(true);
      expect(text(res)).toMatch(/^REQUEST_TIMEOUT: /);
    } finally {
      await client.close();
      await slow.stop();
    }
  });
});
