import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectGraph } from '../graph/graph.js';
import { hashApiKey } from '../src/auth/keys.js';
import { runEntry, type AppProcess } from './utils/process.js';
import { startMcpHttpFixture } from './utils/mcp-fixture-server.js';
import { randomBytes } from 'node:crypto';

const neo4j = inject('neo4j');
const ADMIN_API_KEY = `ap_admin_${'s3cr3t'.repeat(8)}`;
const OPENAI_API_KEY = 'sk-test-openai-secret-0123456789abcdef';
const MCP_SECRET_KEY = randomBytes(32).toString('base64');
const MCP_TOKEN = 'mcp-header-secret-0123456789abcdef';

/** Runs the real server process and returns everything it printed. */
async function fullRun(): Promise<{ output: string; secrets: string[] }> {
  const app: AppProcess = runEntry('src/cli/main.ts', {
    PORT: '0',
    LOG_LEVEL: 'trace',
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'secrets-')),
    NEO4J_URI: neo4j.uri,
    NEO4J_USER: neo4j.user,
    NEO4J_PASSWORD: neo4j.password,
    ADMIN_API_KEY,
    OPENAI_API_KEY,
    MCP_SECRET_KEY,
  });
  const [, url] = await app.waitFor(/ready at (http:\/\/\S+\/graphql)/);
  const post = async (query: string, key: string) => {
    const res = await fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    });
    return res.text();
  };
  const created = JSON.parse(
    await post('mutation { createApiKey(name: "ops", role: OPERATOR) { secret } }', ADMIN_API_KEY),
  ) as { data: { createApiKey: { secret: string } } };
  const secret = created.data.createApiKey.secret;
  const wrongKey = `ap_wrong_${'x'.repeat(40)}`;
  // An MCP server whose header holds a token (issue 16): sealed, used, never shown.
  const mcp = await startMcpHttpFixture({ token: MCP_TOKEN });
  const added = await post(
    `mutation { addToolServer(input: { name: "kb", transport: HTTP, url: "${mcp.url}", headers: [{ name: "Authorization", value: "Bearer ${MCP_TOKEN}" }] }) { lastError tools { name } } }`,
    ADMIN_API_KEY,
  );
  await mcp.close();
  expect(JSON.parse(added)).toMatchObject({ data: { addToolServer: { lastError: null } } });
  const responses = [
    added,
    await post('{ toolServers { name url headers { name source } } }', secret),
    await post('{ viewer { role } }', secret),
    await post('{ viewer { role } }', wrongKey),
    await post(
      'mutation { createAgent(input: { name: "", role: MASTER_OPERATOR }) { id } }',
      secret,
    ),
    await post('{ exportOrganisation }', ADMIN_API_KEY),
    await post('{ nope }', secret),
  ];
  app.child.kill('SIGTERM');
  expect(await app.exited).toBe(0);
  const secrets = [
    ADMIN_API_KEY,
    OPENAI_API_KEY,
    neo4j.password,
    secret,
    wrongKey,
    MCP_SECRET_KEY,
    MCP_TOKEN,
  ];
  for (const response of responses) {
    for (const s of secrets) expect(response, 'a response').not.toContain(s);
  }
  return { output: app.output(), secrets };
}

describe('secrets', () => {
  afterAll(async () => {
    const graph = await connectGraph(neo4j, { log: () => {}, attempts: 3 });
    await graph.write((tx) =>
      tx.run({
        cypher: `MATCH (k:ApiKey {hash: $hash})
          OPTIONAL MATCH (s:ToolServer {tenantId: k.tenantId, name: 'kb'})
          DETACH DELETE s, k`,
        params: { hash: hashApiKey(ADMIN_API_KEY) },
      }),
    );
    await graph.close();
  });

  it('never appear in the logs of a full run at trace level, nor in responses or exports', async () => {
    const { output, secrets } = await fullRun();
    expect(output).toContain('ready at');
    expect(output.split('\n').length).toBeGreaterThan(3);
    for (const s of secrets) expect(output).not.toContain(s);
    // A process start and a workflow: past 30 s with two suite copies on 2 cores.
  }, 120_000);

  it('never appear in a configuration error', async () => {
    const app = runEntry('src/cli/main.ts', { ADMIN_API_KEY: 'too-short-secret' });
    expect(await app.exited).toBe(1);
    expect(app.output().trim()).toBe(
      'Cannot start: Invalid environment: ADMIN_API_KEY must be at least 32 characters, but got a value',
    );
  });
});

describe('production', () => {
  it('refuses to start without configured credentials', async () => {
    const app = runEntry('src/cli/main.ts', { NODE_ENV: 'production', ADMIN_API_KEY: '' });
    expect(await app.exited).toBe(1);
    expect(app.output().trim()).toMatch(
      /^Cannot start: Invalid environment: ADMIN_API_KEY is required in production/,
    );
  });
});
