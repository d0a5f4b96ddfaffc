import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';

/** How much one batch deletes at most. */
export interface TenantBatchSize {
  relationships: number;
  nodes: number;
}

const BATCH: TenantBatchSize = { relationships: 10_000, nodes: 1_000 };

/**
 * Deletes one batch of a tenant: while any is left, up to `nodes` of its episodes waiting for
 * ingestion (PENDING or INGESTING), so the ingestion queue takes none of them once the removal
 * has begun (it would spend model calls and write them back); then, while any is left, up to
 * `relationships` of the relationships its nodes have; then up to `nodes` of its nodes (every
 * label); once none is left, its :Tenant node. Returns how many relationships or nodes it
 * deleted (0: the tenant is gone). The relationships go first so that a batch stays bounded:
 * 1,000 nodes with all of theirs (agents with ~4,000 each after bench:agents at 1,000 runs at
 * once) ran over Neo4j's transaction memory. For throwaway tenants such as the real-model smoke
 * test's and the benchmarks'. Refuses an empty id: never an unscoped delete.
 */
export async function deleteTenantBatch(
  tx: Tx,
  tenantId: string,
  size: TenantBatchSize = BATCH,
): Promise<number> {
  if (!tenantId) throw new Error('deleteTenantBatch needs a tenant id');
  // A waiting episode has a few relationships (its source, its document, its agent).
  const [waiting] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (e:Episode) USING INDEX SEEK e:Episode(tenantId, status, createdAt)
      WHERE e.tenantId = $tenantId AND e.status IN ['PENDING', 'INGESTING']
        AND e.createdAt IS NOT NULL
      WITH e LIMIT $limit
      DETACH DELETE e RETURN count(*) AS n`,
    params: { tenantId, limit: neo4j.int(size.nodes) },
  });
  if (Number(waiting?.n ?? 0) > 0) return Number(waiting!.n);
  const [relationships] = await tx.run<{ n: number }>({
    cypher: `
      MATCH ({tenantId: $tenantId})-[r]-() WITH DISTINCT r LIMIT $limit
      DELETE r RETURN count(r) AS n`,
    params: { tenantId, limit: neo4j.int(size.relationships) },
  });
  if (Number(relationships?.n ?? 0) > 0) return Number(relationships!.n);
  const [nodes] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (n {tenantId: $tenantId}) WITH n LIMIT $limit
      DETACH DELETE n RETURN count(*) AS n`,
    params: { tenantId, limit: neo4j.int(size.nodes) },
  });
  if (Number(nodes?.n ?? 0) > 0) return Number(nodes!.n);
  const [tenant] = await tx.run<{ n: number }>({
    cypher: `MATCH (t:Tenant {id: $tenantId}) DETACH DELETE t RETURN count(*) AS n`,
    params: { tenantId },
  });
  return Number(tenant?.n ?? 0);
}
