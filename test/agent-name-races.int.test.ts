import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Two createAgent calls racing for one name (README walk, 2026-12-06): the one whose name check
 * ran before the other committed hit the unique constraint and got Neo4j's text, "That value is
 * already taken: Node(1221) already exists with label `Agent` and properties `tenantId` = ...",
 * where a later caller reads what to fix: 'An agent named "…" already exists: choose another
 * name'. Both get the same answer now.
 */

const CREATE = `mutation($name: String!) {
  createAgent(input: { name: $name, role: MASTER_OPERATOR }) { id } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

it('answers the loser of a race for an agent name as it answers a late caller', async () => {
  const name = `Twin ${randomUUID().slice(0, 8)}`;
  let answer: Promise<{ errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  // The winner's transaction holds the name until it commits; the request checks meanwhile.
  await server.graph.write(async (tx) => {
    await tx.run({
      cypher: `CREATE (:Agent {tenantId: $tenantId, id: $id, name: $name, role: 'MASTER_OPERATOR',
                               status: 'IDLE', active: true, version: 1,
                               createdAt: datetime(), updatedAt: datetime()})`,
      params: { tenantId: server.tenantId, id: randomUUID(), name },
    });
    answer = server.gql(CREATE, { name } as never) as never;
    await untilBlocked(server.graph, 'the request to wait for the name', {
      name: 'tenantId',
      value: server.tenantId,
    });
  });
  const raced = (await answer!).errors?.[0];
  const late = (await server.gql(CREATE, { name } as never)).errors?.[0];
  expect(late?.message).toBe(`An agent named "${name}" already exists: choose another name`);
  expect(raced?.message).toBe(late?.message);
  expect(raced?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
});
