import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetStructuredModes } from '../src/llm/structured.js';
import type { McpToolPool } from '../src/mcp-client/pool.js';
import type { McpHttpFixture } from './utils/mcp-fixture-server.js';
import { startScriptedOpenAI, type ChatRequest, type Reply } from './utils/openai-server.js';
import type { ScriptedOpenAI } from './utils/openai-server.js';
import { isExecution, operatorScript, toolResultsOf } from './utils/operator-script.js';
import type { TestServer } from './utils/server.js';
import { scriptedLlm as scriptedLlmOf } from './utils/engine.js';
import {
  ADD,
  fixtureServerInput,
  mcpGql,
  runStepOn,
  startMcpToolsServers,
  stepOn,
  stopMcpToolsServers,
} from './utils/mcp-tools-fixtures.js';

// An outside tool's arguments that do not fit its input schema: a person's edit of a held call
// is refused up front, and a model's bad call is recorded by its message, never a stack trace.

let server: TestServer;
let http: McpHttpFixture;
let pool: McpToolPool;
let scripted: ScriptedOpenAI;
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

const llm = () => scriptedLlmOf(scripted.baseURL);
const callThenReport = (name: string, args: Record<string, unknown>) => (req: ChatRequest) =>
  toolResultsOf(req).length === 0 ? { toolCalls: [{ name, args }] } : { content: 'Reported.' };
const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

describe('outside tool arguments that do not fit the tool', { timeout: 240_000 }, () => {
  let serverId = '';
  beforeAll(async () => {
    const res = await mcpGql<{ addToolServer: { id: string } }>(server, ADD, {
      input: fixtureServerInput(http.url),
    });
    expect(res.errors).toBeUndefined();
    serverId = res.data!.addToolServer.id;
  });
  const grant = async (agentId: string, tool: string) => {
    const res = await mcpGql(
      server,
      `mutation($serverId: ID!, $agentId: ID, $tools: [String!]) {
        grantTools(serverId: $serverId, agentId: $agentId, tools: $tools) { id } }`,
      { serverId, agentId, tools: [tool] },
    );
    expect(res.errors).toBeUndefined();
  };

  it("refuses an EDIT of a held call whose args do not fit the tool's input schema, saying which and what it wants", async () => {
    const step = await stepOn(server, 'Editor', 'Write the note down');
    await grant(step.agentId, 'add_note');
    execution = callThenReport('fixture__add_note', { text: 'tin is up' });
    const held = await runStepOn(server, pool, step, llm(), (t) => t.status === 'AWAITING_INPUT');
    const { runId, callId } = held.toolCallRequests[0]!;
    const edit = (args: string) =>
      mcpGql<{ resolveToolCall: { status: string } }>(
        server,
        `mutation($runId: ID!, $callId: String!, $args: String) {
          resolveToolCall(runId: $runId, callId: $callId, decision: EDIT, args: $args) { status } }`,
        { runId, callId, args },
      );
    const refused = await edit('{"text": 42}');
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const message = (refused.errors?.[0] as { message: string }).message;
    expect(message).toMatch(/^args do not fit fixture__add_note: text: .*"string"/);
    const missing = await edit('{}');
    expect((missing.errors?.[0] as { message: string }).message).toMatch(/required .*"text"/);

    // Nothing was decided: a fitting edit is taken, and the call runs with it.
    expect((await edit('{"text": "tin is down"}')).data).toEqual({
      resolveToolCall: { status: 'EDITED' },
    });
    const done = await runStepOn(server, pool, step, llm(), undefined, false);
    expect(done.status).toBe('COMPLETED');
    expect(done.runs.flatMap((r) => r.toolCalls)).toMatchObject([
      { tool: 'add_note', status: 'OK', resultSummary: 'noted: tin is down' },
    ]);
  });

  it("records a model's call whose args do not fit by the message alone, never a stack trace", async () => {
    const step = await stepOn(server, 'Sloppy', 'Echo a number');
    await grant(step.agentId, 'echo');
    execution = callThenReport('fixture__echo', { text: 5 });
    const before = scripted.requests.length;
    const done = await runStepOn(server, pool, step, llm());
    expect(done.status).toBe('COMPLETED');
    const [call] = done.runs.flatMap((r) => r.toolCalls);
    expect(call).toMatchObject({ tool: 'echo', status: 'ERROR' });
    expect(call!.error).toMatch(/text: .*"string"/);
    expect(call!.error).not.toMatch(STACK_FRAME);
    expect(call!.error).not.toContain('node_modules');
    const heard = scripted.requests.slice(before).filter(isExecution)[1]!;
    const read = String(toolResultsOf(heard)[0]!.content);
    expect(read).toMatch(/text: .*"string"/);
    expect(read).not.toMatch(STACK_FRAME);
  });
});
