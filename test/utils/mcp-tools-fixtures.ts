import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { agentExecutor } from '../../src/agents/executor.js';
import { createAgentRuntime } from '../../src/agents/runtime.js';
import type { Executor } from '../../src/engine/executor.js';
import type { LlmConfig } from '../../src/llm/config.js';
import { startScheduler } from './engine.js';
import { untilDone } from './progress.js';
import { DEFAULT_MCP_CLIENT } from '../../src/mcp-client/config.js';
import { McpToolPool } from '../../src/mcp-client/pool.js';
import { startMcpHttpFixture, type McpHttpFixture } from './mcp-fixture-server.js';
import { startTestServer, type TestServer } from './server.js';

// The MCP tool suites' fixtures (issue 16, part 1): the MCP servers a deployment allows (a real
// one, test/utils/mcp-fixture-server.ts, over stdio and streamable HTTP), the API server with
// its pool of sessions to them, and steps for agents to run with their tools.

export const FIXTURE = fileURLToPath(new URL('./mcp-fixture-server.ts', import.meta.url));
export const STDIO = { command: process.execPath, args: ['--import', 'tsx', FIXTURE, '--stdio'] };
/**
 * The same server, answering only after a delay longer than the call timeout of the test that
 * uses it, which a plain call keeps easily even on a loaded machine (1.5 s did not: round 30).
 */
export const START_DELAY_MS = 5_000;
export const SLOW_CALL_TIMEOUT_MS = 4_000;
export const SLOW_START = { ...STDIO, args: [...STDIO.args, `--start-delay=${START_DELAY_MS}`] };
export const TOKEN = `fixture-token-${randomBytes(8).toString('hex')}`;
export const RESULT_MAX = 2_000;

/** The API server with its pool of MCP sessions, and the HTTP MCP fixture. */
export interface McpToolsServers {
  server: TestServer;
  http: McpHttpFixture;
  pool: McpToolPool;
}

export async function startMcpToolsServers(): Promise<McpToolsServers> {
  const http = await startMcpHttpFixture({ token: TOKEN });
  const pool = new McpToolPool(
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
  const server = await startTestServer(undefined, {}, undefined, {}, { mcp: pool });
  return { server, http, pool };
}

export async function stopMcpToolsServers(servers: Partial<McpToolsServers>): Promise<void> {
  await servers.pool?.closeAll();
  await servers.http?.close();
  await servers.server?.stop();
}

export type Gql = {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: string } }[];
};
/** An operation as `server`'s admin (unless headers say otherwise), loosely typed. */
export const mcpGql = async <T = Record<string, unknown>>(
  server: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => (await server.gql(query, variables as never, headers)) as Gql & { data?: T };

export const ADD = `mutation($input: ToolServerInput!) { addToolServer(input: $input) {
  id name transport enabled lastError headers { name source envVar }
  tools { name qualifiedName description inputSchema destructive annotations { readOnlyHint destructiveHint } }
} }`;

/** The HTTP fixture server as addToolServer takes it, named `fixture`, with its token. */
export const fixtureServerInput = (url: string) => ({
  name: 'fixture',
  transport: 'HTTP',
  url,
  headers: [{ name: 'Authorization', value: `Bearer ${TOKEN}` }],
});

/** An operator with its own capability, and a root with one step it alone can run. */
export async function stepOn(server: TestServer, name: string, title: string) {
  const capability = `cap-${name.toLowerCase()}`;
  const made = await mcpGql<{ createAgents: { id: string }[] }>(
    server,
    `mutation($name: String!, $cap: String!) { createAgents(inputs: [{ name: $name, role: MASTER_OPERATOR, capabilities: [{ name: $cap }] }]) { id } }`,
    { name, cap: capability },
  );
  expect(made.errors).toBeUndefined();
  const plan = await mcpGql<{ createTasks: { id: string; key: string }[] }>(
    server,
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
export type StepView = {
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
const readStep = async (server: TestServer, id: string) =>
  (await mcpGql<{ task: StepView }>(server, STEP, { id })).data!.task;

/** Runs the step's workflow with `llm` under a scheduler of its own, until `until` holds. */
export async function runStepOn(
  server: TestServer,
  pool: McpToolPool,
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
      const started = await mcpGql(
        server,
        `mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`,
        { id: step.rootId },
      );
      expect(started.errors).toBeUndefined();
    }
    return await untilDone({
      read: () => readStep(server, step.stepId),
      done: until,
      progress: (t) => `${t.status} ${t.runs.length}`,
      stallMs: 60_000,
      what: 'the step did not finish',
    });
  } finally {
    await scheduler.stop();
  }
}
