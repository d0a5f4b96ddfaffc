import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';

const BATCH = 1_000;

/**
 * Deletes one batch of a tenant's nodes (every label) and, once none is left, its :Tenant node;
 * returns how many nodes it deleted (0: the tenant is gone). For throwaway tenants such as the
 * real-model smoke test's. Refuses an empty id: never an unscoped delete.
 */
export async function deleteTenantBatch(tx: Tx, tenantId: string): Promise<number> {
  if (!tenantId) throw new Error('deleteTenantBatch needs a tenant id');
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (n {tenantId: $tenantId}) WITH n LIMIT $batch
      DETACH DELETE n RETURN count(*) AS n`,
    params: { tenantId, batch: neo4j.int(BATCH) },
  });
  const n = Number(row?.n ?? 0);
  if (n > 0) return n;
  const [tenant] = await tx.run<{ n: number }>({
    cypher: `MATCH (t:Tenant {id: $tenantId}) DETACH DELETE t RETURN count(*) AS n`,
    params: { tenantId },
  });
  return Number(tenant?.n ?? 0);
}
