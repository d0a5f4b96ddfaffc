import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';

/**
 * A tenant's backlogs, counted for their caps (src/domain/backlog.ts) from an index whose every
 * property the predicate fixes, and only up to `most`: a check near a cap of 10,000 reads at
 * most 10,001 index entries, and one far below it as many as the tenant has waiting.
 */

/**
 * The tenant's orchestrated steps waiting to run: PENDING (submitted, planned, started, not yet
 * promoted) or READY, from migration 39's (status, orchestrated, tenantId) index.
 */
export async function queuedSteps(tx: Tx, tenantId: string, most: number): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (t:Task) USING INDEX SEEK t:Task(status, orchestrated, tenantId)
      WHERE t.status IN ['PENDING', 'READY'] AND t.orchestrated = true AND t.tenantId = $tenantId
      WITH t LIMIT $most
      RETURN count(t) AS n`,
    params: { tenantId, most: neo4j.int(most) },
  });
  return Number(row?.n ?? 0);
}

/**
 * The tenant's episodes waiting for ingestion (PENDING) or being ingested (INGESTING), from the
 * ingestion queue's (tenantId, status, createdAt) index (migration 27).
 */
export async function pendingEpisodes(tx: Tx, tenantId: string, most: number): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (e:Episode) USING INDEX SEEK e:Episode(tenantId, status, createdAt)
      WHERE e.tenantId = $tenantId AND e.status IN ['PENDING', 'INGESTING']
        AND e.createdAt IS NOT NULL
      WITH e LIMIT $most
      RETURN count(e) AS n`,
    params: { tenantId, most: neo4j.int(most) },
  });
  return Number(row?.n ?? 0);
}
