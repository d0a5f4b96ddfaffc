/**
 * Taking FAILED episodes back for the ingestion queue (retryEpisodes): an outage of the model
 * or the embeddings endpoint spends every attempt of what was queued meanwhile, and the queue
 * never takes a FAILED episode back by itself.
 */
import neo4j from 'neo4j-driver';
import type { Episode } from '../../src/domain/memory.js';
import type { MemoryView } from '../../src/domain/memory-search.js';
import type { Tx } from '../cypher.js';
import { lockAndBump } from '../locks.js';
import type { NodeLike } from '../page.js';
import { toEpisode } from './mappers.js';
import { viewCondition, viewParams } from './view.js';

/** The FAILED episodes, as `e`, of `ids`, or of the tenant with null, that `view` may see. */
function failedEpisodes(ids: readonly string[] | null, view?: MemoryView): string {
  const seen = viewCondition(view, 'Episode', 'e');
  return `
      ${
        ids
          ? `UNWIND $ids AS id MATCH (e:Episode {tenantId: $tenantId, id: id})
             USING INDEX SEEK e:Episode(id) WHERE e.status = 'FAILED'`
          : `MATCH (e:Episode) USING INDEX SEEK e:Episode(tenantId, status, createdAt)
             WHERE e.tenantId = $tenantId AND e.status = 'FAILED' AND e.createdAt IS NOT NULL`
      }
      ${seen ? `AND ${seen}` : ''}
      WITH e ORDER BY e.createdAt, e.id LIMIT $limit`;
}

/** The ids of a document's FAILED chunks, oldest first: its text uploaded again retries them. */
export async function failedChunksOf(
  tx: Tx,
  tenantId: string,
  documentId: string,
): Promise<string[]> {
  const rows = await tx.run<{ id: string }>({
    cypher: `
      MATCH (d:Document {tenantId: $tenantId, id: $documentId})
      MATCH (d)<-[:FROM_DOCUMENT]-(e:Episode {status: 'FAILED'})
      RETURN e.id AS id ORDER BY e.createdAt, e.id`,
    params: { tenantId, documentId },
  });
  return rows.map((r) => r.id);
}

/**
 * How many FAILED episodes requeueFailedEpisodes would take back with these arguments (read
 * without their locks: what the backlog cap counts before the write).
 */
export async function countRetryableEpisodes(
  tx: Tx,
  tenantId: string,
  ids: readonly string[] | null,
  limit: number,
  view?: MemoryView,
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `${failedEpisodes(ids, view)}
      RETURN count(e) AS n`,
    params: { tenantId, ids, limit: neo4j.int(limit), ...viewParams(view) },
  });
  return Number(row?.n ?? 0);
}

/**
 * Puts FAILED episodes back to PENDING, attempts from 0 and the error cleared (their model
 * calls stay counted): those of `ids`, or with null the oldest `limit` FAILED ones that `view`
 * may see. The documents they are chunks of are INGESTING again. Returns the episodes, oldest
 * first, and those documents' ids.
 */
export async function requeueFailedEpisodes(
  tx: Tx,
  tenantId: string,
  ids: readonly string[] | null,
  limit: number,
  view?: MemoryView,
): Promise<{ episodes: Episode[]; documentIds: string[] }> {
  const rows = await tx.run<{ e: NodeLike; documentId: string | null }>({
    cypher: `${failedEpisodes(ids, view)}
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      // Checked again under the lock: another retry may have taken it back meanwhile.
      WITH e WHERE e.status = 'FAILED'
      SET e.status = 'PENDING', e.attempts = 0, e.error = null, e.retryAt = null,
          e.updatedAt = datetime()
      WITH e ORDER BY e.createdAt, e.id
      RETURN e,
        COLLECT { MATCH (e)-[:FROM_DOCUMENT]->(d:Document) RETURN d.id LIMIT 1 }[0] AS documentId`,
    params: { tenantId, ids, limit: neo4j.int(limit), ...viewParams(view) },
  });
  const documentIds = [...new Set(rows.flatMap((r) => (r.documentId ? [r.documentId] : [])))];
  if (documentIds.length > 0) {
    // Under the document's lock, as settling takes it: a chunk ending now sees it open again.
    await tx.run({
      cypher: `
        UNWIND $documentIds AS documentId
        MATCH (d:Document {tenantId: $tenantId, id: documentId})
        ${lockAndBump('d', 'Document', 'settleVersion')}
        SET d.status = 'INGESTING', d.updatedAt = datetime()`,
      params: { tenantId, documentIds },
    });
  }
  return { episodes: rows.map((r) => toEpisode(r.e)), documentIds };
}

/** How many episodes are FAILED: the tenant's, or every tenant's (memory:reembed's hint). */
export async function countFailedEpisodes(tx: Tx, tenantId?: string): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: tenantId
      ? `MATCH (e:Episode) USING INDEX SEEK e:Episode(tenantId, status, createdAt)
         WHERE e.tenantId = $tenantId AND e.status = 'FAILED' AND e.createdAt IS NOT NULL
         RETURN count(e) AS n`
      : `MATCH (e:Episode) USING INDEX SEEK e:Episode(status, createdAt)
         WHERE e.status = 'FAILED' AND e.createdAt IS NOT NULL
         RETURN count(e) AS n`,
    params: { tenantId: tenantId ?? null },
  });
  return Number(row?.n ?? 0);
}
