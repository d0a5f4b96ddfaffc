import { expect, it } from 'vitest';
import { inTenant } from './utils/engine-steps.js';
import { seedMemory } from './utils/memory-fixtures.js';

/*
 * deleteOrganisation deletes the entities (they are the organisation's, exported with it), and
 * the memory it leaves in place must still read: a fact whose subject was deleted had none,
 * and `facts` answered an internal error for every fact of the tenant.
 */
it('leaves memory that still reads after deleteOrganisation: no fact without its entities', async () => {
  await inTenant(async (server) => {
    const made = await server.gql(
      `mutation { createAgent(input: { name: "Rememberer", role: MASTER_OPERATOR }) { id } }`,
    );
    const agentId = (made.data as { createAgent: { id: string } }).createAgent.id;
    await seedMemory(server.graph, server.tenantId, 'Gone', agentId);
    const read = () =>
      server.gql(`{ facts(first: 10) { nodes { id predicate subject { name } } }
                    episodes(first: 10) { nodes { id } } }`);
    const before = (await read()) as { data?: { facts: { nodes: unknown[] } } };
    expect(before.data?.facts.nodes.length).toBeGreaterThan(0);

    const deleted = await server.gql(
      `mutation($c: String!) { deleteOrganisation(confirm: $c) {
      nodesDeleted } }`,
      { c: server.tenantId } as never,
    );
    expect(deleted.errors).toBeUndefined();
    const after = (await read()) as {
      errors?: unknown[];
      data?: { facts: { nodes: unknown[] }; episodes: { nodes: unknown[] } };
    };
    expect(after.errors).toBeUndefined();
    expect(after.data?.facts.nodes).toEqual([]);
    // The episodes (what was seen) stay, as the README says.
    expect(after.data?.episodes.nodes.length).toBeGreaterThan(0);
  });
});
