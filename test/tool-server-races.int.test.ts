import { afterAll, beforeAll, expect, it } from 'vitest';
import { setToolServerTools, updateToolServer } from '../graph/tool-server.repository.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Two updates of one tool server at once (mcp suites: one at a time). An update writes every
 * setting from what it read: one that read before another committed wrote the other's change
 * back, and a server an admin switched off was on again. And a listing of the tools that ends
 * after an update: it is for settings the server no longer has.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

it("keeps an update that committed while another waited for the server's lock", async () => {
  const added = await server.gql(`mutation { addToolServer(input: {
    name: "races", transport: HTTP, url: "http://127.0.0.1:9/mcp" }) { id enabled } }`);
  expect(added.errors).toBeUndefined();
  const { id } = (added.data as { addToolServer: { id: string } }).addToolServer;

  let timeout: Promise<unknown> | undefined;
  // An admin switches the server off; before that commits, another changes its timeout.
  await server.graph.write(async (tx) => {
    await updateToolServer(tx, server.tenantId, id, { enabled: false }, 'first admin');
    timeout = server.gql(
      `mutation($id: ID!) { updateToolServer(id: $id, input: { timeoutMs: 5000 }) { id } }`,
      { id } as never,
    );
    await untilBlocked(server.graph, 'the second update to wait for the server', {
      name: 'id',
      value: id,
    });
  });
  expect(await timeout).toMatchObject({ data: { updateToolServer: { id } } });
  const read = await server.gql(`query { toolServers { id enabled timeoutMs } }`);
  expect((read.data as { toolServers: unknown[] }).toolServers).toEqual([
    { id, enabled: false, timeoutMs: 5000 },
  ]);
});

it('keeps the tools of the settings a server has, not of a listing made before an update', async () => {
  const added = await server.gql(`mutation { addToolServer(input: {
    name: "relisted", transport: HTTP, url: "http://127.0.0.1:9/mcp" }) { id lastError } }`);
  expect(added.errors).toBeUndefined();
  const { id } = (added.data as { addToolServer: { id: string } }).addToolServer;
  const [before] = await server.graph.read((tx) =>
    tx.run<{ version: number }>({
      cypher: 'MATCH (s:ToolServer {id: $id}) RETURN s.version AS version',
      params: { id },
    }),
  );
  // An update moves the server on while a listing of its old settings is still under way.
  await server.graph.write((tx) =>
    updateToolServer(tx, server.tenantId, id, { timeoutMs: 5000 }, 'admin'),
  );
  const kept = await server.graph.write((tx) =>
    setToolServerTools(tx, server.tenantId, id, before!.version, { error: 'from the old url' }),
  );
  expect(kept?.lastError).not.toBe('from the old url');
});

it('audits a refused removal, grant or revocation once, as a failure', async () => {
  const unknown = '00000000-0000-4000-8000-00000000beef';
  const added = await server.gql(`mutation { addToolServer(input: {
    name: "audited", transport: HTTP, url: "http://127.0.0.1:9/mcp" }) { id } }`);
  const { id } = (added.data as { addToolServer: { id: string } }).addToolServer;
  const calls = [
    ['removeToolServer', `mutation { removeToolServer(id: "${unknown}") }`],
    ['grantTools', `mutation { grantTools(serverId: "${id}", agentId: "${unknown}") { id } }`],
    ['revokeTools', `mutation { revokeTools(serverId: "${unknown}", agentId: "${unknown}") }`],
  ] as const;
  for (const [operation, query] of calls) {
    const res = await server.gql(query);
    expect(res.errors?.[0]?.extensions?.code, operation).toBe('NOT_FOUND');
    const events = await server.graph.read((tx) =>
      tx.run<{ outcome: string }>({
        cypher: `MATCH (e:AuditEvent {tenantId: $tenantId})
                 WHERE e.operation CONTAINS $operation RETURN e.outcome AS outcome`,
        params: { tenantId: server.tenantId, operation },
      }),
    );
    expect(
      events.map((e) => e.outcome),
      operation,
    ).toEqual(['FAILURE']);
  }
});
