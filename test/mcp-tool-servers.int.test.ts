import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpToolPool } from '../src/mcp-client/pool.js';
import { type McpHttpFixture } from './utils/mcp-fixture-server.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEndlessListing } from './utils/mcp-paging-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  TOKEN,
  startMcpToolsServers,
  stopMcpToolsServers,
  mcpGql,
  ADD,
  fixtureServerInput,
} from './utils/mcp-tools-fixtures.js';

// Issue 16, part 1: outside MCP servers as ADMINs add them, and what a deployment refuses
// (mcp-tools-agents.int.test.ts: agents calling their tools).

let server: TestServer;
let http: McpHttpFixture;
let pool: McpToolPool;

beforeAll(async () => {
  ({ server, http, pool } = await startMcpToolsServers());
});

afterAll(() => stopMcpToolsServers({ server, http, pool }));

const gql = <T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => mcpGql<T>(server, query, variables, headers);

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
      input: fixtureServerInput(http.url),
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
    // Credentials in the URL would be shown to every key that reads toolServers.
    const withCredentials = http.url.replace('://', '://user:secret@');
    const [creds, credsWhy] = await codeOf({
      name: 'creds',
      transport: 'HTTP',
      url: withCredentials,
    });
    expect(creds).toBe('BAD_USER_INPUT');
    expect(credsWhy).toMatch(/user name or password.*header/);
    // A field of the other transport is a mistake to say, not to store.
    const [mixed, mixedWhy] = await codeOf({
      name: 'mixed',
      transport: 'HTTP',
      url: http.url,
      command: 'npx',
    });
    expect(mixed).toBe('BAD_USER_INPUT');
    expect(mixedWhy).toMatch(/command and args apply to STDIO servers only/);
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

  it('refuses a url longer than LIMITS.url, naming the field, and stores nothing', async () => {
    // Walk: a 100 kB url was accepted and stored, shown to every key that reads toolServers.
    const url = `${http.url}?${'a'.repeat(100_000)}`;
    const res = await gql(ADD, { input: { name: 'longurl', transport: 'HTTP', url } });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((res.errors?.[0] as { message?: string })?.message).toMatch(
      /^url must be at most 2048 characters, but got 100\d{3}/,
    );
    const listed = await gql<{ toolServers: { name: string }[] }>(`{ toolServers { name } }`);
    expect(listed.data!.toolServers.map((s) => s.name)).not.toContain('longurl');
  });

  it('refuses a name with "__" (or a trailing "_"), the separator of its tools\' names', async () => {
    // "a__b" with tool "c" and "a" with tool "b__c" would both be offered as a__b__c.
    for (const name of ['team__docs', 'docs__', 'docs_']) {
      const res = await gql(ADD, { input: { name, transport: 'HTTP', url: http.url } });
      expect(res.errors?.[0]?.extensions?.code, name).toBe('BAD_USER_INPUT');
      expect((res.errors?.[0] as { message?: string })?.message, name).toMatch(
        /must not contain "__".*separates .*server__tool/,
      );
    }
    const listed = await gql<{ toolServers: { name: string }[] }>(`{ toolServers { name } }`);
    expect(listed.data!.toolServers.map((s) => s.name)).not.toContain('team__docs');
  });

  it('says why a listing failed: the reason under "fetch failed", the HTTP status', async () => {
    // Walk: lastError read "fetch failed" for a refused connection, and "Error POSTing to
    // endpoint: " (nothing more) for a 431 without a body.
    const bare = createServer((_req, res) => res.writeHead(431).end());
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      const why = async (name: string, url: string) => {
        const res = await gql<{ addToolServer: { id: string; lastError: string } }>(ADD, {
          input: { name, transport: 'HTTP', url },
        });
        expect(res.errors).toBeUndefined();
        await gql(`mutation($id: ID!) { removeToolServer(id: $id) }`, {
          id: res.data!.addToolServer.id,
        });
        return res.data!.addToolServer.lastError;
      };
      // A port nobody listens on (fetch refuses port 9 itself, as a "bad port").
      const gone = createServer();
      await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
      const free = (gone.address() as AddressInfo).port;
      await new Promise((resolve) => gone.close(resolve));
      expect(await why('closed', `http://127.0.0.1:${free}/mcp`)).toBe(
        `could not list the tools: fetch failed (connect ECONNREFUSED 127.0.0.1:${free})`,
      );
      expect(await why('port9', 'http://127.0.0.1:9/mcp')).toBe(
        'could not list the tools: fetch failed (bad port)',
      );
      const port = (bare.address() as AddressInfo).port;
      expect(await why('bare', `http://127.0.0.1:${port}/mcp`)).toMatch(
        /^could not list the tools: HTTP 431 from the server: Error POSTing to endpoint$/,
      );
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });

  /** An API whose requests have 2 s, on the suite's pool. */
  const quickServer = () =>
    startTestServer(undefined, { requestTimeoutMs: 2_000 }, undefined, {}, { mcp: pool });

  /** addToolServer on `quick`: answered in time, saved without tools. */
  async function addedWithin(quick: TestServer, name: string, url: string) {
    const res = await mcpGql<{ addToolServer: { lastError: string; tools: unknown[] } }>(
      quick,
      ADD,
      { input: { name, transport: 'HTTP', url } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.addToolServer.tools).toEqual([]);
    return res.data!.addToolServer;
  }

  it('saves a server whose listing outlasts the request, with the reason, inside the request’s time', async () => {
    // An endpoint that takes the connection and never answers, and an API whose requests
    // have 2 s: the listing would wait for the 30 s connect timeout.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp`;
    const quick = await quickServer();
    try {
      const added = await addedWithin(quick, 'silent', url);
      expect(added.lastError).toMatch(/could not list the tools: .*refreshToolServer/);
    } finally {
      await quick.stop();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('stops asking a server whose tool pages never end once the request gives up on it', async () => {
    // A slow server (100 pages take 5 s): the request's deadline ends the listing, not its cap.
    const endless = await startEndlessListing(50);
    const quick = await quickServer();
    try {
      const added = await addedWithin(quick, 'endless', endless.url);
      expect(added.lastError).toMatch(/could not list the tools: /);
      const pages = endless.pages();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(endless.pages() - pages).toBeLessThanOrEqual(1); // one in flight at most
    } finally {
      await quick.stop();
      await endless.close();
    }
  });
});
