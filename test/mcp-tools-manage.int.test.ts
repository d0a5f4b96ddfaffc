import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { DEFAULT_MCP_CLIENT } from '../src/mcp-client/config.js';
import { McpToolPool } from '../src/mcp-client/pool.js';
import { startScheduler } from './utils/engine.js';
import { startMcpHttpFixture, type McpHttpFixture } from './utils/mcp-fixture-server.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 16, part 1: a tool server's tools as GraphQL shows them, refreshed when the server
// changes; grants taken back and servers turned off reach the agents' next steps.

let server: TestServer;
let fixture: McpHttpFixture;
let pool: McpToolPool;

beforeAll(async () => {
  fixture = await startMcpHttpFixture();
  pool = new McpToolPool(DEFAULT_MCP_CLIENT, { debug: () => {} });
  server = await startTestServer(undefined, {}, undefined, {}, { mcp: pool });
});
afterAll(async () => {
  await pool?.closeAll();
  await fixture?.close();
  await server?.stop();
});

const ask = async <T>(query: string, variables: Record<string, unknown> = {}) => {
  const res = await server.gql<T, object>(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data!;
};

const TOOLS = `tools { name description inputSchema annotations { readOnlyHint destructiveHint } }`;
type Tool = {
  name: string;
  description: string | null;
  inputSchema: string;
  annotations: { readOnlyHint: boolean | null; destructiveHint: boolean | null } | null;
};

/** Runs one step that names `tool` on the offline model; returns the tools its runs called. */
async function callsOfStepNaming(tool: string, capability: string): Promise<string[]> {
  return (await stepNaming(tool, capability)).map((c) => c.tool);
}

/** Runs one step that names `tool` on the offline model; returns the calls its runs made. */
async function stepNaming(
  tool: string,
  capability: string,
): Promise<{ tool: string; status: string; durationMs: number }[]> {
  const plan = await ask<{ createTasks: { id: string; key: string }[] }>(
    `mutation($title: String!, $cap: String!) { createTasks(inputs: [
      { key: "root", title: "Managed tools" },
      { key: "step", title: $title, parentKey: "root", requiredCapabilities: [$cap] }
    ]) { id key } }`,
    { title: `Check the tin price with ${tool}`, cap: capability },
  );
  const ids = Object.fromEntries(plan.createTasks.map((t) => [t.key, t.id]));
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm: loadConfig({}).llm,
    logger: server.logger,
    mcp: pool,
  });
  const scheduler = startScheduler(server, agentExecutor(runtime));
  try {
    await ask(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, { id: ids.root });
    const done = await untilDone({
      read: async () =>
        (
          await ask<{
            task: {
              status: string;
              runs: { toolCalls: { tool: string; status: string; durationMs: number }[] }[];
            };
          }>(
            `query($id: ID!) { task(id: $id) { status runs { toolCalls { tool status durationMs } } } }`,
            { id: ids.step },
          )
        ).task,
      done: (t) => ['COMPLETED', 'FAILED'].includes(t.status),
      progress: (t) => `${t.status} ${t.runs.length}`,
      stallMs: 60_000,
      what: 'the step did not end',
    });
    expect(done.status).toBe('COMPLETED');
    return done.runs.flatMap((r) => r.toolCalls);
  } finally {
    await scheduler.stop();
  }
}

describe('managing MCP tool servers', { timeout: 240_000 }, () => {
  let serverId = '';
  let agentId = '';

  it("shows a server's tools by id, and picks up a tool the server added when refreshed", async () => {
    const added = await ask<{ addToolServer: { id: string } }>(
      `mutation($url: String!) { addToolServer(input: { name: "shop", transport: HTTP, url: $url }) { id } }`,
      { url: fixture.url },
    );
    serverId = added.addToolServer.id;
    const { toolServer } = await ask<{ toolServer: { tools: Tool[] } }>(
      `query($id: ID!) { toolServer(id: $id) { ${TOOLS} } }`,
      { id: serverId },
    );
    const echo = toolServer.tools.find((t) => t.name === 'echo')!;
    expect(echo.description).toMatch(/./);
    expect(JSON.parse(echo.inputSchema)).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string' } },
    });
    expect(echo.annotations?.readOnlyHint).toBe(true);
    expect(toolServer.tools.some((t) => t.name === 'restock')).toBe(false);

    fixture.addTool('restock');
    const refreshed = await ask<{ refreshToolServer: { tools: Tool[]; lastError: string | null } }>(
      `mutation($id: ID!) { refreshToolServer(id: $id) { lastError ${TOOLS} } }`,
      { id: serverId },
    );
    expect(refreshed.refreshToolServer.lastError).toBeNull();
    expect(refreshed.refreshToolServer.tools.map((t) => t.name)).toContain('restock');
    const again = await ask<{ toolServer: { tools: Tool[] } }>(
      `query($id: ID!) { toolServer(id: $id) { ${TOOLS} } }`,
      { id: serverId },
    );
    expect(again.toolServer.tools.map((t) => t.name)).toContain('restock');
  });

  it("reaches an agent's next step only while granted and enabled", async () => {
    const made = await ask<{ createAgents: { id: string }[] }>(
      `mutation { createAgents(inputs: [{ name: "Clerk", role: MASTER_OPERATOR, capabilities: [{ name: "clerking" }] }]) { id } }`,
    );
    agentId = made.createAgents[0]!.id;
    await ask(
      `mutation($serverId: ID!, $agentId: ID!) { grantTools(serverId: $serverId, agentId: $agentId, tools: ["echo"]) { id } }`,
      { serverId, agentId },
    );
    expect(await callsOfStepNaming('shop__echo', 'clerking')).toEqual(['echo']);

    // Turned off: the agent is not offered its tools (the step runs without them).
    await ask(
      `mutation($id: ID!) { updateToolServer(id: $id, input: { enabled: false }) { enabled } }`,
      { id: serverId },
    );
    expect(await callsOfStepNaming('shop__echo', 'clerking')).toEqual([]);
    await ask(
      `mutation($id: ID!) { updateToolServer(id: $id, input: { enabled: true }) { enabled } }`,
      { id: serverId },
    );
    expect(await callsOfStepNaming('shop__echo', 'clerking')).toEqual(['echo']);

    // Grant taken back: the same.
    const revoked = await ask<{ revokeTools: boolean }>(
      `mutation($serverId: ID!, $agentId: ID!) { revokeTools(serverId: $serverId, agentId: $agentId) }`,
      { serverId, agentId },
    );
    expect(revoked.revokeTools).toBe(true);
    const { toolServer } = await ask<{ toolServer: { grants: unknown[] } }>(
      `query($id: ID!) { toolServer(id: $id) { grants { tools } } }`,
      { id: serverId },
    );
    expect(toolServer.grants).toEqual([]);
    expect(await callsOfStepNaming('shop__echo', 'clerking')).toEqual([]);
    // Every call the fixture saw came from the two granted, enabled steps.
    expect(fixture.calls.map((c) => c.tool)).toEqual(['echo', 'echo']);
  });

  it("ends an HTTP server's call that hangs at the server's timeout; the step completes", async () => {
    await ask(
      `mutation($serverId: ID!, $agentId: ID!) { grantTools(serverId: $serverId, agentId: $agentId, tools: ["hang"]) { id } }`,
      { serverId, agentId },
    );
    await ask(
      `mutation($id: ID!) { updateToolServer(id: $id, input: { timeoutMs: 1500 }) { timeoutMs } }`,
      { id: serverId },
    );
    const [hang] = await stepNaming('shop__hang', 'clerking');
    expect(hang).toMatchObject({ tool: 'hang', status: 'TIMEOUT' });
    expect(hang!.durationMs).toBeGreaterThanOrEqual(1_400);
    expect(hang!.durationMs).toBeLessThan(DEFAULT_MCP_CLIENT.callTimeoutMs);
  });
});
