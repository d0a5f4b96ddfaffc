import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import type { LlmConfig } from '../src/llm/config.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { DEFAULT_MCP_CLIENT } from '../src/mcp-client/config.js';
import { McpToolPool } from '../src/mcp-client/pool.js';
import { startMcpHttpFixture, type McpHttpFixture } from './utils/mcp-fixture-server.js';
import { startFailingLookupServer } from './utils/mcp-paging-server.js';
import { startScriptedOpenAI, type ChatRequest, type Reply } from './utils/openai-server.js';
import { type ScriptedOpenAI } from './utils/openai-server.js';
import { isExecution, operatorScript, toolResultsOf } from './utils/operator-script.js';
import { type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import { graphql } from './generated/index.js';
import { scriptedLlm as scriptedLlmOf } from './utils/engine.js';
import {
  STDIO,
  START_DELAY_MS,
  SLOW_CALL_TIMEOUT_MS,
  SLOW_START,
  TOKEN,
  RESULT_MAX,
  startMcpToolsServers,
  stopMcpToolsServers,
  mcpGql,
  ADD,
  fixtureServerInput,
  runStepOn,
  stepOn,
  type StepView,
} from './utils/mcp-tools-fixtures.js';

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
// (mcp-tool-servers.int.test.ts: adding the servers.)

let server: TestServer;
let http: McpHttpFixture;
let scripted: ScriptedOpenAI;
let pool: McpToolPool;
/** What the scripted model answers an execution request with; set by each test. */
let execution: (req: ChatRequest) => Reply = () => ({ content: 'ok' });

beforeAll(async () => {
  ({ server, http, pool } = await startMcpToolsServers());
  forgetStructuredModes();
  scripted = await startScriptedOpenAI(operatorScript((req) => execution(req)));
});

afterAll(async () => {
  await scripted?.close();
  await stopMcpToolsServers({ server, http, pool });
});

const gql = <T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => mcpGql<T>(server, query, variables, headers);

async function addServer(input: Record<string, unknown>): Promise<string> {
  const res = await gql<{ addToolServer: { id: string; lastError: string | null } }>(ADD, {
    input,
  });
  expect(res.errors).toBeUndefined();
  expect(res.data!.addToolServer.lastError).toBeNull();
  return res.data!.addToolServer.id;
}

const stepFor = (name: string, title: string) => stepOn(server, name, title);
const runStep = (
  step: { rootId: string; stepId: string },
  llm: LlmConfig,
  until?: (t: StepView) => boolean,
  start?: boolean,
) => runStepOn(server, pool, step, llm, until, start);

const offline = () => loadConfig({}).llm;
const scriptedLlm = () => scriptedLlmOf(scripted.baseURL);

/** The scripted model calls `calls` first, then reports what the tools said. */
const callThenReport =
  (calls: { name: string; args: Record<string, unknown> }[]) => (req: ChatRequest) =>
    toolResultsOf(req).length === 0 ? { toolCalls: calls } : { content: 'Reported.' };

describe('agents using MCP tools', () => {
  let stdioId: string;
  let httpId: string;
  let streamedId: string;
  let streamed: McpHttpFixture;
  beforeAll(async () => {
    stdioId = await addServer({ name: 'local', transport: 'STDIO', ...STDIO });
    streamed = await startMcpHttpFixture({ sse: true });
    streamedId = await addServer({ name: 'streamed', transport: 'HTTP', url: streamed.url });
    const [existing] = (
      await gql<{ toolServers: { id: string; name: string }[] }>(`{ toolServers { id name } }`)
    ).data!.toolServers.filter((s) => s.name === 'fixture');
    httpId = existing?.id ?? (await addServer(fixtureServerInput(http.url)));
  });
  afterAll(() => streamed?.close());
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

  it.each([
    ['stdio', 'local'],
    ['streamed (SSE) HTTP', 'streamed'],
    ['JSON HTTP', 'fixture'],
  ])(
    'fails a %s reply larger than MCP_MAX_MESSAGE_BYTES at once, naming the limit, not as TIMEOUT',
    async (_t, name) => {
      // A streamed reply past the limit used to wait for the call timeout (recorded TIMEOUT).
      const limit = 64 * 1024;
      const small = new McpToolPool(
        { ...pool.cfg, maxMessageBytes: limit, callTimeoutMs: 20_000 },
        { debug: () => {} },
      );
      onTestFinished(() => small.closeAll());
      const ids: Record<string, string> = { local: stdioId, streamed: streamedId, fixture: httpId };
      const step = await stepFor(`Over${name}`, 'Fetch the oversized file');
      await grant(ids[name]!, { agentId: step.agentId }, ['big']);
      execution = callThenReport([{ name: `${name}__big`, args: { bytes: 4 * limit } }]);
      const before = scripted.requests.length;
      const done = await runStepOn(server, small, step, scriptedLlm());
      expect(done.status).toBe('COMPLETED');
      const [call] = done.runs.flatMap((r) => r.toolCalls);
      const says = new RegExp(`larger than ${limit} bytes \\(MCP_MAX_MESSAGE_BYTES\\)`);
      expect(call).toMatchObject({
        tool: 'big',
        status: 'ERROR',
        error: expect.stringMatching(says),
      });
      expect(call!.durationMs).toBeLessThan(small.cfg.callTimeoutMs);
      const heard = scripted.requests.slice(before).filter(isExecution)[1]!;
      expect(String(toolResultsOf(heard)[0]!.content)).toMatch(says);
    },
    120_000,
  );

  // Review: an SDK server's JSON-RPC error reached the model as "MCP error -32602: MCP error
  // -32602: ...": the server sends McpError's message, prefix and all, and the client adds it.
  it("passes on a server's JSON-RPC error with its code once", async () => {
    const strict = await startFailingLookupServer('id must be a number');
    onTestFinished(() => strict.close());
    const strictId = await addServer({ name: 'strict', transport: 'HTTP', url: strict.url });
    const step = await stepFor('Strict', 'Look the order up');
    await grant(strictId, { agentId: step.agentId }, ['lookup']);
    execution = callThenReport([{ name: 'strict__lookup', args: { id: 'x' } }]);
    const before = scripted.requests.length;
    const done = await runStep(step, scriptedLlm());
    const [call] = done.runs.flatMap((r) => r.toolCalls);
    expect(call).toMatchObject({ tool: 'lookup', status: 'ERROR' });
    expect(call!.error).toMatch(/MCP error -32602: id must be a number$/);
    expect(call!.error!.match(/MCP error/g)).toHaveLength(1);
    const heard = scripted.requests.slice(before).filter(isExecution)[1]!;
    const seen = String(toolResultsOf(heard)[0]!.content);
    expect(seen).toMatch(/MCP error -32602: id must be a number$/);
    expect(seen.match(/MCP error/g)).toHaveLength(1);
  });
});
