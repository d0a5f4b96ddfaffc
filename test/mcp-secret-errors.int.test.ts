import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { forgetStructuredModes } from '../src/llm/structured.js';
import type { McpToolPool } from '../src/mcp-client/pool.js';
import type { McpHttpFixture } from './utils/mcp-fixture-server.js';
import { startFailingLookupServer } from './utils/mcp-paging-server.js';
import {
  startScriptedOpenAI,
  type ChatRequest,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { isExecution, operatorScript, toolResultsOf } from './utils/operator-script.js';
import type { TestServer } from './utils/server.js';
import { scriptedLlm } from './utils/engine.js';
import {
  ADD,
  mcpGql,
  runStepOn,
  startMcpToolsServers,
  stepOn,
  stopMcpToolsServers,
} from './utils/mcp-tools-fixtures.js';

// Walk: a server whose error repeats the headers it got put their (sealed) values into its
// lastError, which every key that reads toolServers sees, and into its calls' errors.

const SEALED = `sealed-${randomBytes(8).toString('hex')}`;
const FROM_ENV = `env-${randomBytes(8).toString('hex')}`;
const ENV_VAR = 'MCP_HEADER_SECRET_ERRORS_TEST';
const HEADERS = [
  { name: 'Authorization', value: `Bearer ${SEALED}` },
  { name: 'X-Api-Key', fromEnv: ENV_VAR },
];

let server: TestServer;
let http: McpHttpFixture;
let pool: McpToolPool;
let scripted: ScriptedOpenAI;
let execution: (req: ChatRequest) => ReturnType<Parameters<typeof operatorScript>[0]>;

beforeAll(async () => {
  process.env[ENV_VAR] = FROM_ENV;
  ({ server, http, pool } = await startMcpToolsServers());
  forgetStructuredModes();
  scripted = await startScriptedOpenAI(operatorScript((req) => execution(req)));
});

afterAll(async () => {
  await scripted?.close();
  await stopMcpToolsServers({ server, http, pool });
  delete process.env[ENV_VAR];
});

const gql = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown>) =>
  mcpGql<T>(server, query, variables);

describe("an MCP server's error that repeats its headers", () => {
  it('keeps their values out of lastError', async () => {
    const echo = createServer((req, res) => {
      const said = `refused: authorization=${req.headers.authorization} key=${req.headers['x-api-key']}`;
      res.writeHead(403, { 'content-type': 'text/plain' }).end(said);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => echo.close(() => resolve())));
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/mcp`;
    const res = await gql<{ addToolServer: { lastError: string } }>(ADD, {
      input: { name: 'echoer', transport: 'HTTP', url, headers: HEADERS },
    });
    expect(res.errors).toBeUndefined();
    const lastError = res.data!.addToolServer.lastError;
    expect(lastError).toMatch(/HTTP 403 from the server: .*refused: authorization=/);
    expect(lastError).not.toContain(SEALED);
    expect(lastError).not.toContain(FROM_ENV);
    expect(lastError).toMatch(/authorization=\[redacted\] key=\[redacted\]/);
  });

  it('keeps their values out of the recorded call and what the model hears', async () => {
    const leaky = await startFailingLookupServer(`no access for ${SEALED} and ${FROM_ENV}`);
    onTestFinished(() => leaky.close());
    const added = await gql<{ addToolServer: { id: string; lastError: string | null } }>(ADD, {
      input: { name: 'leaky', transport: 'HTTP', url: leaky.url, headers: HEADERS },
    });
    expect(added.data!.addToolServer.lastError).toBeNull();
    const step = await stepOn(server, 'Leaky', 'Look the order up');
    const granted = await gql(
      `mutation($serverId: ID!, $agentId: ID) { grantTools(serverId: $serverId, agentId: $agentId) { id } }`,
      { serverId: added.data!.addToolServer.id, agentId: step.agentId },
    );
    expect(granted.errors).toBeUndefined();
    execution = (req) =>
      toolResultsOf(req).length === 0
        ? { toolCalls: [{ name: 'leaky__lookup', args: {} }] }
        : { content: 'Reported.' };
    const before = scripted.requests.length;
    const done = await runStepOn(server, pool, step, scriptedLlm(scripted.baseURL));
    const [call] = done.runs.flatMap((r) => r.toolCalls);
    expect(call).toMatchObject({ tool: 'lookup', status: 'ERROR' });
    expect(call!.error).toMatch(/no access for \[redacted\] and \[redacted\]$/);
    const heard = scripted.requests.slice(before).filter(isExecution)[1]!;
    const seen = String(toolResultsOf(heard)[0]!.content);
    expect(seen).toMatch(/no access for \[redacted\] and \[redacted\]$/);
    expect(JSON.stringify(done)).not.toMatch(new RegExp(`${SEALED}|${FROM_ENV}`));
  });
});
