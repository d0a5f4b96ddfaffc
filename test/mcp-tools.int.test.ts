import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config.js';
import type { Executor } from '../src/engine/executor.js';
import type { LlmConfig } from '../src/llm/config.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { DEFAULT_MCP_CLIENT } from '../src/mcp-client/config.js';
import { McpToolPool } from '../src/mcp-client/pool.js';
import { startScheduler } from './utils/engine.js';
import { startMcpHttpFixture, type McpHttpFixture } from './utils/mcp-fixture-server.js';
import { startScriptedOpenAI, type ChatRequest, type Reply } from './utils/openai-server.js';
import { type ScriptedOpenAI } from './utils/openai-server.js';
import { isExecution, operatorScript, toolResultsOf } from './utils/operator-script.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import { graphql } from './generated/index.js';

const Calls = graphql(`
  subscription McpToolCalls($taskId: ID) {
    toolCalls(taskId: $taskId) {
      tool
      status
      taskId
      runId
    }
  }
`);

// Issue 16, part 1: agents use outside MCP servers' tools, granted per agent or capability,
// every call recorded; destructive tools wait for a person; hangs, deaths and 10 MB results
// end the call, not the step. A real MCP server (test/utils/mcp-fixture-server.ts) over stdio
// and streamable HTTP, through the offline model and through the scripted OpenAI server.

const FIXTURE = fileURLToPath(new URL('./utils/mcp-fixture-server.ts', import.meta.url));
const STDIO = { command: process.execPath, args: ['--import', 'tsx', FIXTURE, '--stdio'] };
/**
 * The same server, answering only after a delay longer than the call timeout of the test that
 * uses it, which a plain call keeps easily even on a loaded machine (1.5 s did not: round 30).
 */
const START_DELAY_MS = 5_000;
const SLOW_CALL_TIMEOUT_MS = 4_000;
const SLOW_START = { ...STDIO, args: [...STDIO.args, `--start-delay=${START_DELAY_MS}`] };
const TOKEN = `fixture-token-${randomBytes(8).toString('hex')}`;
const RESULT_MAX = 2_000;

let server: TestServer;
let http: McpHttpFixture;
let scripted: ScriptedOpenAI;
let pool: McpToolPool;
/** What the scripted model answers an execution request with; set by each test. */
let execution: (req: ChatRequest) => Reply = () => ({ content: 'ok' });

beforeAll(async () => {
  http = await startMcpHttpFixture({ token: TOKEN });
  pool = new McpToolPool(
    {
      ...DEFAULT_MCP_CLIENT,
      stdioAllow: [STDIO, SLOW_START],
      secretKey: randomBytes(32),
      resultMaxChars: RESULT_MAX,
      // tsx's start on a loaded machine plus the slow server's delay stay well inside it.
      connectTimeoutMs: 30_000,
      // A 10 MB result fits; the largest message is still bounded.
      maxMessageBytes: 32 * 1024 * 1024,
    },
    { debug: () => {} },
  );
  server = await startTestServer(undefined, {}, undefined, {}, { mcp: pool });
  forgetStructuredModes();
  scripted = await startScriptedOpenAI(operatorScript((req) => execution(req)));
});

afterAll(async () => {
  await pool?.closeAll();
  await scripted?.close();
  await http?.close();
  await server?.stop();
});

type Gql = { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
const gql = async <T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => (await server.gql(query, variables as never, headers)) as Gql & { data?: T };

const ADD = `mutation($input: ToolServerInput!) { addToolServer(input: $input) {
  id name transport enabled lastError headers { name source envVar }
  tools { name qualifiedName description inputSchema destructive annotations { readOnlyHint destructiveHint } }
} }`;

async function addServer(input: Record<string, unknown>): Promise<string> {
  const res = await gql<{ addToolServer: { id: string; lastError: string | null } }>(ADD, {
    input,
  });
  expect(res.errors).toBeUndefined();
  expect(res.data!.addToolServer.lastError).toBeNull();
  return res.data!.addToolServer.id;
}

/** An operator with its own capability, and a root with one step it alone can run. */
async function stepFor(name: string, title: string) {
  const capability = `cap-${name.toLowerCase()}`;
  const made = await gql<{ createAgents: { id: string }[] }>(
    `mutation($name: String!, $cap: String!) { createAgents(inputs: [{ name: $name, role: MASTER_OPERATOR, capabilities: [{ name: $cap }] }]) { id } }`,
    { name, cap: capability },
  );
  expect(made.errors).toBeUndefined();
  const plan = await gql<{ createTasks: { id: string; key: string }[] }>(
    `mutation($title: String!, $cap: String!) { createTasks(inputs: [
      { key: "root", title: "MCP work" },
      { key: "step", title: $title, parentKey: "root", requiredCapabilities: [$cap] }
    ]) { id key } }`,
    { title, cap: capability },
  );
  expect(plan.errors).toBeUndefined();
  const ids = Object.fromEntries(plan.data!.createTasks.map((t) => [t.key, t.id]));
  return {
    agentId: made.data!.createAgents[0]!.id,
    capability,
    rootId: ids.root!,
    stepId: ids.step!,
  };
}

const STEP = `query($id: ID!) { task(id: $id) { status result
  toolCallRequests { runId callId tool status }
  runs { id status toolCalls { server tool callId args resultSummary resultChars truncated durationMs status error } } } }`;
type StepView = {
  status: string;
  result: string | null;
  toolCallRequests: { runId: string; callId: string; tool: string; status: string }[];
  runs: {
    id: string;
    status: string;
    toolCalls: {
      server: string;
      tool: string;
      callId: string;
      args: string;
      resultSummary: string | null;
      resultChars: number;
      truncated: boolean;
      durationMs: number;
      status: string;
      error: string | null;
    }[];
  }[];
};
const readStep = async (id: string) => (await gql<{ task: StepView }>(STEP, { id })).data!.task;

async function runStep(
  step: { rootId: string; stepId: string },
  llm: LlmConfig,
  until: (t: StepView) => boolean = (t) => t.status === 'COMPLETED' || t.status === 'FAILED',
  /** Start its workflow (false: it is under way, e.g. waiting for a person). */
  start = true,
): Promise<StepView> {
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm,
    logger: server.logger,
    mcp: pool,
  });
  const scheduler = startScheduler(server, agentExecutor(runtime) as Executor, { leaseMs: 30_000 });
  try {
    if (start) {
      const started = await gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, {
        id: step.rootId,
      });
      expect(started.errors).toBeUndefined();
    }
    return await untilDone({
      read: () => readStep(step.stepId),
      done: until,
      progress: (t) => `${t.status} ${t.runs.length}`,
      stallMs: 60_000,
      what: 'the step did not finish',
    });
  } finally {
    await scheduler.stop();
  }
}

const offline = () => loadConfig({}).llm;
const scriptedLlm = () =>
  loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'scripted-1',
    LLM_MAX_RETRIES: '0',
  }).llm;

/** The scripted model calls `calls` first, then reports what the tools said. */
const callThenReport =
  (calls: { name: string; args: Record<string, unknown> }[]) => (req: ChatRequest) =>
    toolResultsOf(req).length === 0 ? { toolCalls: calls } : { content: 'Reported.' };

describe('MCP tool servers', () => {
  it('are added by ADMINs with their tools listed; header values are sealed and never shown', async () => {
    const res = await gql<{
      addToolServer: {
        id: string;
        headers: unknown[];
        tools: {
          name: string;
          qualifiedName: string;
          inputSchema: string;
          destructive: boolean;
          annotations: { readOnlyHint: boolean | null; destructiveHint: boolean | null };
        }[];
      };
    }>(ADD, {
      input: {
        name: 'fixture',
        transport: 'HTTP',
        url: http.url,
        headers: [{ name: 'Authorization', value: `Bearer ${TOKEN}` }],
      },
    });
    expect(res.errors).toBeUndefined();
    const added = res.data!.addToolServer;
    expect(added.tools.map((t) => t.name).sort()).toEqual(
      ['add_note', 'big', 'die', 'echo', 'fail', 'hang', 'slow'].sort(),
    );
    const byName = Object.fromEntries(added.tools.map((t) => [t.name, t]));
    expect(byName.echo!.qualifiedName).toBe('fixture__echo');
    expect(JSON.parse(byName.echo!.inputSchema).properties.text.type).toBe('string');
    expect(byName.echo!.destructive).toBe(false);
    expect(byName.add_note!.destructive).toBe(true);
    expect(byName.add_note!.annotations.destructiveHint).toBe(true);
    expect(added.headers).toEqual([{ name: 'Authorization', source: 'ENCRYPTED', envVar: null }]);

    // The token is nowhere: not in answers, not in the node, not in the export.
    const listed = JSON.stringify(
      await gql(`{ toolServers { id name url headers { name } tools { name } } }`),
    );
    const [node] = await server.graph.read((tx) =>
      tx.run<{ props: string }>({
        cypher: `MATCH (s:ToolServer {tenantId: $tenantId, id: $id}) RETURN s {.*, createdAt: null, updatedAt: null, toolsRefreshedAt: null} AS props`,
        params: { tenantId: server.tenantId, id: added.id },
      }),
    );
    const exported = JSON.stringify(await gql(`{ exportOrganisation }`));
    for (const seen of [JSON.stringify(res), listed, JSON.stringify(node), exported])
      expect(seen).not.toContain(TOKEN);

    // Only ADMINs manage servers; anyone may look.
    const viewer = await server.keyFor('VIEWER' as never);
    const refused = await gql(
      ADD,
      { input: { name: 'other', transport: 'HTTP', url: http.url } },
      { authorization: `Bearer ${viewer}` },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const looked = await gql(`{ toolServers { name } }`, {}, { authorization: `Bearer ${viewer}` });
    expect(looked.data).toEqual({ toolServers: [{ name: 'fixture' }] });
  });

  it('refuses what a deployment does not allow, with what to do instead', async () => {
    const codeOf = async (input: Record<string, unknown>) => {
      const res = await gql(ADD, { input });
      return [
        res.errors?.[0]?.extensions?.code,
        (res.errors?.[0] as { message?: string })?.message,
      ];
    };
    const [stdio, why] = await codeOf({
      name: 'shell',
      transport: 'STDIO',
      command: '/bin/sh',
      args: ['-c', 'echo hi'],
    });
    expect(stdio).toBe('BAD_USER_INPUT');
    expect(why).toMatch(/MCP_STDIO_ALLOW/);
    expect((await codeOf({ name: 'Bad Name', transport: 'HTTP', url: http.url }))[0]).toBe(
      'BAD_USER_INPUT',
    );
    expect((await codeOf({ name: 'ftp', transport: 'HTTP', url: 'ftp://example.com' }))[0]).toBe(
      'BAD_USER_INPUT',
    );
    const [env, envWhy] = await codeOf({
      name: 'leaky',
      transport: 'HTTP',
      url: http.url,
      headers: [{ name: 'Authorization', fromEnv: 'NEO4J_PASSWORD' }],
    });
    expect(env).toBe('BAD_USER_INPUT');
    expect(envWhy).toMatch(/MCP_HEADER_/);
    expect((await codeOf({ name: 'fixture', transport: 'HTTP', url: http.url }))[0]).toBe(
      'CONFLICT',
    );

    // Unreachable: saved with the reason; pointed at a live server, its tools are listed.
    const res = await gql<{ addToolServer: { id: string; lastError: string; tools: unknown[] } }>(
      ADD,
      { input: { name: 'later', transport: 'HTTP', url: 'http://127.0.0.1:9/mcp' } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.addToolServer.lastError).toMatch(/could not list the tools/);
    expect(res.data!.addToolServer.tools).toEqual([]);
    const fixed = await gql<{ updateToolServer: { lastError: string | null; tools: unknown[] } }>(
      `mutation($id: ID!) { updateToolServer(id: $id, input: { url: "${http.url}", headers: [{ name: "Authorization", value: "Bearer ${TOKEN}" }] }) { lastError tools { name } } }`,
      { id: res.data!.addToolServer.id },
    );
    expect(fixed.errors).toBeUndefined();
    expect(fixed.data!.updateToolServer.lastError).toBeNull();
    expect(fixed.data!.updateToolServer.tools).toHaveLength(7);
    const removed = await gql(`mutation($id: ID!) { removeToolServer(id: $id) }`, {
      id: res.data!.addToolServer.id,
    });
    expect(removed.data).toEqual({ removeToolServer: true });
  });
});

describe('agents using MCP tools', () => {
  let stdioId: string;
  let httpId: string;
  beforeAll(async () => {
    stdioId = await addServer({ name: 'local', transport: 'STDIO', ...STDIO });
    const [existing] = (
      await gql<{ toolServers: { id: string; name: string }[] }>(`{ toolServers { id name } }`)
    ).data!.toolServers.filter((s) => s.name === 'fixture');
    httpId =
      existing?.id ??
      (await addServer({
        name: 'fixture',
        transport: 'HTTP',
        url: http.url,
        headers: [{ name: 'Authorization', value: `Bearer ${TOKEN}` }],
      }));
  });
  const grant = async (serverId: string, target: Record<string, unknown>, tools?: string[]) => {
    const res = await gql(
      `mutation($serverId: ID!, $agentId: ID, $capability: String, $tools: [String!]) {
        grantTools(serverId: $serverId, agentId: $agentId, capability: $capability, tools: $tools) { id } }`,
      { serverId, ...target, tools },
    );
    expect(res.errors).toBeUndefined();
  };

  it('calls a granted stdio tool through the offline model, and records the call on the run', async () => {
    const step = await stepFor('Lookout', 'Check the tin price with local__echo');
    await grant(stdioId, { agentId: step.agentId }, ['echo']);
    const done = await runStep(step, offline());
    expect(done.status).toBe('COMPLETED');
    const calls = done.runs.flatMap((r) => r.toolCalls);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      server: 'local',
      tool: 'echo',
      status: 'OK',
      truncated: false,
    });
    expect(calls[0]!.resultSummary).toMatch(/^echo: /);
    expect(done.result).toContain('local__echo: echo: ');
    const [linked] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (:Run {tenantId: $tenantId, id: $runId})-[:CALLED_TOOL]->(c:ToolCall) RETURN count(c) AS n`,
        params: { tenantId: server.tenantId, runId: done.runs[0]!.id },
      }),
    );
    expect(linked!.n).toBe(1);
  });

  it('offers a granted HTTP tool to a real OpenAI client, sends the sealed header, and redacts secret arguments', async () => {
    const step = await stepFor('Reader', 'Read the latest note');
    await grant(httpId, { capability: step.capability }, ['echo']);
    execution = callThenReport([
      { name: 'fixture__echo', args: { text: 'hello', apiKey: 'sk-live-secret' } },
    ]);
    const before = scripted.requests.length;
    const watch = await subscribe(server, Calls, { taskId: step.stepId });
    const done = await runStep(step, scriptedLlm());
    expect(done.status).toBe('COMPLETED');
    // Subscribers hear of the call as it is recorded.
    const heard = await watch.waitForNext(20_000);
    expect(heard.data!.toolCalls).toEqual({
      tool: 'echo',
      status: 'OK',
      taskId: step.stepId,
      runId: done.runs[0]!.id,
    });
    await watch.close();
    const asked = scripted.requests.slice(before).filter(isExecution);
    const offered = asked[0]!.tools!.map((t) => t.function);
    expect(offered.map((f) => f.name)).toContain('fixture__echo');
    expect(offered.map((f) => f.name)).not.toContain('fixture__add_note'); // not granted
    const echo = offered.find((f) => f.name === 'fixture__echo')!;
    expect(echo.parameters).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string' } },
    });
    // The model read the tool's answer.
    expect(toolResultsOf(asked[1]!).map((m) => m.content)).toEqual(['echo: hello']);
    const call = http.calls.filter((c) => c.tool === 'echo').at(-1)!;
    expect(call.headers?.authorization).toBe(`Bearer ${TOKEN}`);
    const [recorded] = done.runs.flatMap((r) => r.toolCalls);
    expect(JSON.parse(recorded!.args)).toEqual({ text: 'hello', apiKey: '[redacted]' });
  });

  it('holds a destructive tool for a person: nothing runs before APPROVE, then it runs once', async () => {
    const step = await stepFor('Scribe', 'Write the note down');
    await grant(httpId, { agentId: step.agentId }, ['add_note']);
    execution = callThenReport([{ name: 'fixture__add_note', args: { text: 'tin is up' } }]);
    const notesBefore = http.calls.filter((c) => c.tool === 'add_note').length;
    const held = await runStep(step, scriptedLlm(), (t) => t.status === 'AWAITING_INPUT');
    expect(held.toolCallRequests.map((q) => [q.tool, q.status])).toEqual([
      ['fixture__add_note', 'PENDING'],
    ]);
    expect(http.calls.filter((c) => c.tool === 'add_note').length).toBe(notesBefore);
    expect(held.runs.flatMap((r) => r.toolCalls)).toEqual([]);

    const request = held.toolCallRequests[0]!;
    const approved = await gql(
      `mutation($runId: ID!, $callId: String!) { resolveToolCall(runId: $runId, callId: $callId, decision: APPROVE) { status } }`,
      { runId: request.runId, callId: request.callId },
    );
    expect(approved.errors).toBeUndefined();
    const done = await runStep(step, scriptedLlm(), undefined, false);
    expect(done.status).toBe('COMPLETED');
    expect(http.calls.filter((c) => c.tool === 'add_note').length).toBe(notesBefore + 1);
    expect(done.runs.flatMap((r) => r.toolCalls).map((c) => [c.tool, c.status])).toEqual([
      ['add_note', 'OK'],
    ]);
  });

  it('ends a call that hangs at the server timeout, and the model hears of it; the step completes', async () => {
    const step = await stepFor('Waiter', 'Wait for the slow server');
    const timeout = (ms: number) =>
      gql(
        `mutation($id: ID!, $ms: Int!) { updateToolServer(id: $id, input: { timeoutMs: $ms }) { timeoutMs } }`,
        { id: stdioId, ms },
      );
    expect((await timeout(1500)).data).toEqual({ updateToolServer: { timeoutMs: 1500 } });
    onTestFinished(async () => void (await timeout(30_000)));
    await grant(stdioId, { agentId: step.agentId });
    execution = callThenReport([
      { name: 'local__hang', args: {} },
      { name: 'local__echo', args: { text: 'still here' } },
    ]);
    const before = scripted.requests.length;
    const done = await runStep(step, scriptedLlm());
    expect(done.status).toBe('COMPLETED');
    const calls = Object.fromEntries(done.runs.flatMap((r) => r.toolCalls).map((c) => [c.tool, c]));
    expect(calls.hang).toMatchObject({ status: 'TIMEOUT' });
    expect(calls.hang!.durationMs).toBeGreaterThanOrEqual(1_400);
    // Ended by the server's 1.5 s, not the pool's 30 s. The update renews the session, so the
    // duration includes a cold start of the stdio server: about 8.6 s of 10.1 s on a loaded
    // machine (round 35 of 2026-12-02, where this bound was 10 s).
    expect(calls.hang!.durationMs).toBeLessThan(DEFAULT_MCP_CLIENT.callTimeoutMs);
    expect(calls.echo).toMatchObject({ status: 'OK', resultSummary: 'echo: still here' });
    const heard = scripted.requests.slice(before).filter(isExecution)[1]!;
    expect(toolResultsOf(heard).map((m) => String(m.content))).toEqual([
      expect.stringMatching(/took too long/),
      'echo: still here',
    ]);
  });

  it('starts the call timeout once the session is open: a slow-starting server does not time out its first call', async () => {
    const slowId = await addServer({
      name: 'sleepy',
      transport: 'STDIO',
      ...SLOW_START,
      timeoutMs: SLOW_CALL_TIMEOUT_MS,
    });
    const step = await stepFor('Patient', 'Ask the sleepy server');
    await grant(slowId, { agentId: step.agentId }, ['echo']);
    execution = callThenReport([{ name: 'sleepy__echo', args: { text: 'awake' } }]);
    const done = await runStep(step, scriptedLlm());
    expect(done.runs.flatMap((r) => r.toolCalls)).toMatchObject([
      { tool: 'echo', status: 'OK', resultSummary: 'echo: awake' },
    ]);
    expect(done.runs[0]!.toolCalls[0]!.durationMs).toBeGreaterThanOrEqual(START_DELAY_MS - 500);
  });

  it('survives a stdio server that dies mid-call: an error for that call, a new process for the next', async () => {
    const step = await stepFor('Survivor', 'Poke the fragile server');
    await grant(stdioId, { agentId: step.agentId });
    execution = callThenReport([{ name: 'local__die', args: {} }]);
    const first = await runStep(step, scriptedLlm());
    expect(first.status).toBe('COMPLETED');
    expect(first.runs.flatMap((r) => r.toolCalls)).toMatchObject([
      { tool: 'die', status: 'ERROR', error: expect.stringMatching(/closed/i) },
    ]);
    const next = await stepFor('Successor', 'Ask the server again');
    await grant(stdioId, { agentId: next.agentId }, ['echo']);
    execution = callThenReport([{ name: 'local__echo', args: { text: 'back' } }]);
    const second = await runStep(next, scriptedLlm());
    expect(second.runs.flatMap((r) => r.toolCalls)).toMatchObject([
      { tool: 'echo', status: 'OK', resultSummary: 'echo: back' },
    ]);
  });

  it('survives an HTTP server that drops the connection mid-call: an error for that call, the next call answered', async () => {
    const step = await stepFor('Dropped', 'Poke the fragile remote server');
    await grant(httpId, { agentId: step.agentId }, ['die']);
    execution = callThenReport([{ name: 'fixture__die', args: {} }]);
    const first = await runStep(step, scriptedLlm());
    expect(first.status).toBe('COMPLETED');
    const [dropped] = first.runs.flatMap((r) => r.toolCalls);
    // At once, not at the call timeout: the dropped connection fails the call's request.
    expect(dropped).toMatchObject({
      tool: 'die',
      status: 'ERROR',
      error: expect.stringMatching(/fetch failed|closed|terminated/i),
    });
    expect(dropped!.durationMs).toBeLessThan(1_500);
    const next = await stepFor('Reconnected', 'Ask the remote server again');
    await grant(httpId, { agentId: next.agentId }, ['echo']);
    execution = callThenReport([{ name: 'fixture__echo', args: { text: 'again' } }]);
    const second = await runStep(next, scriptedLlm());
    expect(second.runs.flatMap((r) => r.toolCalls)).toMatchObject([
      { tool: 'echo', status: 'OK', resultSummary: 'echo: again' },
    ]);
  });

  it.each([
    ['stdio', 'local'],
    ['HTTP', 'fixture'],
  ])(
    'gives the model only the start of a 10 MB %s result, and records its full size',
    async (_t, name) => {
      const step = await stepFor(`Big${name}`, 'Fetch the big file');
      await grant(name === 'local' ? stdioId : httpId, { agentId: step.agentId }, ['big']);
      const bytes = 10 * 1024 * 1024;
      execution = callThenReport([{ name: `${name}__big`, args: { bytes } }]);
      const before = scripted.requests.length;
      const done = await runStep(step, scriptedLlm());
      expect(done.status).toBe('COMPLETED');
      expect(done.runs.flatMap((r) => r.toolCalls)).toMatchObject([
        { tool: 'big', status: 'OK', truncated: true, resultChars: bytes },
      ]);
      const heard = scripted.requests.slice(before).filter(isExecution)[1]!;
      const seen = String(toolResultsOf(heard)[0]!.content);
      expect(seen.length).toBeLessThan(RESULT_MAX + 100);
      expect(seen).toMatch(/\[cut: the first 2000 of 10485760 characters\]$/);
    },
    120_000,
  );
});
