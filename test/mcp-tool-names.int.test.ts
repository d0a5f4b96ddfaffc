import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { StepContext } from '../src/engine/executor.js';
import { mcpToolsFor } from '../src/mcp-client/tools.js';
import { deleteToolServer, lockToolServer } from '../graph/tool-server.repository.js';
import { untilBlocked } from './utils/blocked.js';
import type { McpToolPool } from '../src/mcp-client/pool.js';
import type { McpHttpFixture } from './utils/mcp-fixture-server.js';
import { startListingServer, type PagingServer } from './utils/mcp-paging-server.js';
import { mcpGql, startMcpToolsServers, stopMcpToolsServers } from './utils/mcp-tools-fixtures.js';
import type { TestServer } from './utils/server.js';

// An outside server may list any names, but a model calls its tools as server__tool, which
// OpenAI holds to ^[a-zA-Z0-9_-]{1,64}$: such tools were shown and granted, then silently never
// offered. And names that grants and policies give must be tools the server lists.

let server: TestServer;
let http: McpHttpFixture;
let pool: McpToolPool;
let odd: PagingServer;
let serverId = '';
let agentId = '';

/** As listed, in order: five tools no model can call, then one it can. */
const NAMES = ['', 'with space', 'x'.repeat(200), 'dup', 'dup', 'fine'];

const gql = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) =>
  mcpGql<T>(server, query, variables);
const codeAndMessage = (res: { errors?: { extensions?: { code?: string } }[] }) => [
  res.errors?.[0]?.extensions?.code,
  (res.errors?.[0] as { message?: string } | undefined)?.message ?? '',
];

beforeAll(async () => {
  ({ server, http, pool } = await startMcpToolsServers());
  odd = await startListingServer(() => ({
    tools: NAMES.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
  }));
  const added = await gql<{ addToolServer: { id: string; lastError: string | null } }>(
    `mutation($url: String!) { addToolServer(input: { name: "odd", transport: HTTP, url: $url }) {
      id lastError } }`,
    { url: odd.url },
  );
  expect(added.errors).toBeUndefined();
  expect(added.data!.addToolServer.lastError).toBeNull();
  serverId = added.data!.addToolServer.id;
  const made = await gql<{ createAgents: { id: string }[] }>(
    `mutation { createAgents(inputs: [{ name: "Odd user", role: MASTER_OPERATOR }]) { id } }`,
  );
  expect(made.errors).toBeUndefined();
  agentId = made.data!.createAgents[0]!.id;
});

afterAll(async () => {
  await stopMcpToolsServers({ server, http, pool });
  await odd?.close();
});

const grant = (tools?: string[]) =>
  gql(
    `mutation($serverId: ID!, $agentId: ID!, $tools: [String!]) {
      grantTools(serverId: $serverId, agentId: $agentId, tools: $tools) { id } }`,
    { serverId, agentId, tools },
  );

describe('tools whose names a model cannot call', () => {
  it('are refused by grantTools, naming the rule, and never offered to a model', async () => {
    for (const name of ['with space', 'x'.repeat(200)]) {
      const [code, message] = codeAndMessage(await grant([name]));
      expect(code, name).toBe('BAD_USER_INPUT');
      expect(message, name).toContain('^[a-zA-Z0-9_-]{1,64}$');
    }
    // "odd__" would pass OpenAI's rule, but MCP's tools have names.
    expect(codeAndMessage(await grant(['']))).toEqual([
      'BAD_USER_INPUT',
      'no agent can use this tool of odd: odd lists a tool with no name; ' +
        'its tools agents can use are fine',
    ]);
    const [code, message] = codeAndMessage(await grant(['dup']));
    expect(code).toBe('BAD_USER_INPUT');
    expect(message).toMatch(/lists 2 tools named "dup"/);

    // All its tools granted: the model is offered the one it can call, once.
    expect((await grant()).errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      mcp: pool,
    });
    const step = { task: { tenantId: server.tenantId }, agent: { id: agentId } } as StepContext;
    const offered = await mcpToolsFor(runtime, step);
    expect(offered.tools.map((t) => t.name)).toEqual(['odd__fine']);
  });

  it('are listed as the server lists them, each with why no agent can use it', async () => {
    const res = await gql<{
      toolServer: { tools: { name: string; qualifiedName: string; unusable: string | null }[] };
    }>(`query($id: ID!) { toolServer(id: $id) { tools { name qualifiedName unusable } } }`, {
      id: serverId,
    });
    expect(res.errors).toBeUndefined();
    const tools = res.data!.toolServer.tools;
    expect(tools.map((t) => t.name)).toEqual(NAMES);
    const [empty, spaced, long, dup1, dup2, fine] = tools.map((t) => t.unusable);
    expect(empty).toBe('odd lists a tool with no name');
    expect(spaced).toMatch(
      /^a model would call it "odd__with space", .*\^\[a-zA-Z0-9_-\]\{1,64\}\$/,
    );
    expect(long).toMatch(/\(205 characters\)/);
    expect(dup1).toMatch(/lists 2 tools named "dup"/);
    expect(dup2).toBe(dup1);
    expect(fine).toBeNull();
  });
});

describe('tool policies of outside tools', () => {
  const setPolicy = (tool: string) =>
    gql(
      `mutation($tool: String!) { setToolPolicy(input: { tool: $tool, mode: NEVER }) { tool } }`,
      {
        tool,
      },
    );

  it('name a tool a server of the tenant lists and agents can use, or are refused', async () => {
    // A typo'd NEVER would never apply, silently.
    expect(codeAndMessage(await setPolicy('zzz__echo'))).toEqual([
      'BAD_USER_INPUT',
      'no tool server is called zzz; the tool servers are odd (addToolServer adds one)',
    ]);
    expect(codeAndMessage(await setPolicy('odd__nope'))).toEqual([
      'BAD_USER_INPUT',
      'odd has no tool named nope; its tools agents can use are fine',
    ]);
    const [code, message] = codeAndMessage(await setPolicy('odd__dup'));
    expect(code).toBe('BAD_USER_INPUT');
    expect(message).toMatch(/lists 2 tools named "dup"/);
    const set = await setPolicy('odd__fine');
    expect(set.errors).toBeUndefined();
    expect(set.data).toEqual({ setToolPolicy: { tool: 'odd__fine' } });
  });

  // Review: a policy outlived its server, and a different server given the name later had its
  // tool of that name held (or let through: NEVER) by a rule nobody set for it.
  it('go with their server when it is removed, and never apply to a later one of its name', async () => {
    const listing = await startListingServer(() => ({
      tools: [{ name: 'drop', inputSchema: { type: 'object' as const } }],
    }));
    try {
      const add = async () => {
        const res = await gql<{ addToolServer: { id: string } }>(
          `mutation($url: String!) { addToolServer(input: { name: "gone", transport: HTTP,
            url: $url }) { id } }`,
          { url: listing.url },
        );
        expect(res.errors).toBeUndefined();
        return res.data!.addToolServer.id;
      };
      const policies = async () => {
        const res = await gql<{ toolPolicies: { tool: string }[] }>(`{ toolPolicies { tool } }`);
        return res.data!.toolPolicies.map((p) => p.tool);
      };
      const first = await add();
      expect((await setPolicy('gone__drop')).errors).toBeUndefined();
      expect((await setPolicy('ask_agent')).errors).toBeUndefined();
      expect(await policies()).toEqual(expect.arrayContaining(['gone__drop', 'ask_agent']));
      const removed = await gql(`mutation($id: ID!) { removeToolServer(id: $id) }`, { id: first });
      expect(removed.data).toEqual({ removeToolServer: true });
      const left = await policies();
      expect(left).not.toContain('gone__drop');
      expect(left).toEqual(expect.arrayContaining(['ask_agent', 'odd__fine']));
      await add(); // another server, the same name and tool: the old rule is not its
      expect(await policies()).not.toContain('gone__drop');
    } finally {
      await listing.close();
    }
  });

  it('is refused for a server whose removal commits while it waits', async () => {
    const listing = await startListingServer(() => ({
      tools: [{ name: 'drop', inputSchema: { type: 'object' as const } }],
    }));
    try {
      const res = await gql<{ addToolServer: { id: string } }>(
        `mutation($url: String!) { addToolServer(input: { name: "going", transport: HTTP,
          url: $url }) { id } }`,
        { url: listing.url },
      );
      const id = res.data!.addToolServer.id;
      let set: ReturnType<typeof setPolicy> | undefined;
      // The server's removal holds its lock; a policy for its tool is set before that commits.
      await server.graph.write(async (tx) => {
        expect(await lockToolServer(tx, server.tenantId, id)).not.toBeNull();
        await deleteToolServer(tx, server.tenantId, id);
        set = setPolicy('going__drop');
        await untilBlocked(server.graph, 'the policy to wait for the server', {
          name: 'name',
          value: 'going',
        });
      });
      expect((await set!).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const left = await gql<{ toolPolicies: { tool: string }[] }>(`{ toolPolicies { tool } }`);
      expect(left.data!.toolPolicies.map((p) => p.tool)).not.toContain('going__drop');
    } finally {
      await listing.close();
    }
  });
});

describe('a server that refuses to list its tools', () => {
  it('keeps its JSON-RPC error in lastError with the code once', async () => {
    const refusing = await startListingServer(() => {
      throw new McpError(ErrorCode.InvalidRequest, 'listing needs a tenant header');
    });
    try {
      const res = await gql<{ addToolServer: { lastError: string | null } }>(
        `mutation($url: String!) { addToolServer(input: { name: "refusing", transport: HTTP,
          url: $url }) { lastError } }`,
        { url: refusing.url },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.addToolServer.lastError).toBe(
        'could not list the tools: MCP error -32600: listing needs a tenant header',
      );
    } finally {
      await refusing.close();
    }
  });
});
