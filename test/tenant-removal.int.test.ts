import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { deleteTenantBatch } from '../graph/tenant-removal.repository.js';

/**
 * The tenant bench:agents left after 1,000 runs at once (2026-12-02: 148,730 nodes, agents with
 * ~4,000 relationships each) could not be deleted: a batch of 1,000 nodes took all their
 * relationships with it and ran over Neo4j's transaction memory. A batch now deletes at most
 * so many relationships while any is left, then at most so many nodes, then the :Tenant node.
 */
describe('deleteTenantBatch', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(() => graph.close());

  it("deletes a dense node's relationships a bounded batch at a time, then nodes, then the tenant", async () => {
    const tenantId = `test-${randomUUID()}`;
    const other = `test-${randomUUID()}`;
    await graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (:Tenant {id: $tenantId})
          CREATE (hub:Agent {tenantId: $tenantId, id: randomUUID()})
          CREATE (kept:Agent {tenantId: $other, id: randomUUID()})
          WITH hub, kept
          UNWIND range(1, 250) AS i
          CREATE (hub)-[:RAN]->(r:Run {tenantId: $tenantId, id: randomUUID()})
          FOREACH (_ IN CASE WHEN i = 1 THEN [1] ELSE [] END | CREATE (kept)-[:RAN]->(r))`,
        params: { tenantId, other },
      }),
    );
    const size = { relationships: 100, nodes: 100 };
    const left = () =>
      graph.read(async (tx) => {
        // The relationships left: the hub's, and the other tenant's agent's into this tenant
        // (which of them a batch takes first follows Neo4j's scan order).
        const [row] = await tx.run<{ nodes: number; relationships: number }>({
          cypher: `
            RETURN COUNT { MATCH (n {tenantId: $tenantId}) } AS nodes,
                   COUNT { MATCH (:Agent {tenantId: $tenantId})--() } +
                   COUNT { MATCH (:Agent {tenantId: $other})--({tenantId: $tenantId}) }
                     AS relationships`,
          params: { tenantId, other },
        });
        return row!;
      });

    const batches: number[] = [];
    for (let n = await graph.write((tx) => deleteTenantBatch(tx, tenantId, size)); n > 0;) {
      batches.push(n);
      if (batches.length === 1) expect(await left()).toEqual({ nodes: 251, relationships: 151 });
      n = await graph.write((tx) => deleteTenantBatch(tx, tenantId, size));
    }
    // 251 relationships (250 to the hub, one to the other tenant's agent), 251 nodes, the tenant.
    expect(batches).toEqual([100, 100, 51, 100, 100, 51, 1]);
    expect(await left()).toEqual({ nodes: 0, relationships: 0 });
    const survivors = await graph.read((tx) =>
      tx.run<{ tenants: number; kept: number }>({
        cypher: `
          RETURN COUNT { MATCH (:Tenant {id: $tenantId}) } AS tenants,
                 COUNT { MATCH (:Agent {tenantId: $other}) } AS kept`,
        params: { tenantId, other },
      }),
    );
    expect(survivors[0]).toEqual({ tenants: 0, kept: 1 });
    await graph.write((tx) => deleteTenantBatch(tx, other));
  });
});
