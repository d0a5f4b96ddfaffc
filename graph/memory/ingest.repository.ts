/**
 * The memory ingestion queue's statements (issue 11): claiming PENDING episodes under a lease,
 * fairly across tenants, the lease fence a commit takes, and the episode's end (INGESTED, a
 * retry after backoff, FAILED). Like the step queue (claim.repository.ts, run.repository.ts),
 * it works across tenants and every write keeps the tenant of the episode it touches.
 */
import neo4j from 'neo4j-driver';
import type { Episode } from '../../src/domain/memory.js';
import { LEASE_EXPIRED } from '../../src/domain/lease.js';
import type { Tx } from '../cypher.js';
import { afterCursor, byTurns, IN_SCOPE, type TenantScope } from '../engine-scope.js';
import type { NodeLike } from '../page.js';
import { toEpisode } from './mappers.js';
import { lockAndBump } from '../locks.js';

/** A claimed episode with what its ingestion needs to know of its provenance. */
export interface ClaimedEpisode {
  episode: Episode;
  runId: string | null;
  /** The task of the run it came from (what its model calls are booked to). */
  taskId: string | null;
  agentId: string | null;
  documentId: string | null;
  /** Facts that arrived already structured (JSON), written without a model call. */
  structured: unknown;
}

const CLAIMED = `e,
  COLLECT { MATCH (e)-[:FROM_RUN]->(r:Run) RETURN r.id LIMIT 1 }[0] AS runId,
  COLLECT { MATCH (e)-[:FROM_RUN]->(:Run)-[:OF]->(t:Task) RETURN t.id LIMIT 1 }[0] AS taskId,
  COLLECT { MATCH (e)-[:BY]->(a:Agent) RETURN a.id LIMIT 1 }[0] AS agentId,
  COLLECT { MATCH (e)-[:FROM_DOCUMENT]->(d:Document) RETURN d.id LIMIT 1 }[0] AS documentId`;

type ClaimedRow = {
  e: NodeLike;
  runId: string | null;
  taskId: string | null;
  agentId: string | null;
  documentId: string | null;
};

function toClaimed(row: ClaimedRow): ClaimedEpisode {
  const raw = row.e.properties.structured;
  let structured: unknown = null;
  if (typeof raw === 'string' && raw !== '') {
    try {
      structured = JSON.parse(raw);
    } catch {
      structured = null; // a malformed payload is ignored; the free text still counts
    }
  }
  return {
    episode: toEpisode(row.e),
    runId: row.runId,
    taskId: row.taskId,
    agentId: row.agentId,
    documentId: row.documentId,
    structured,
  };
}

/**
 * Claims up to `limit` PENDING episodes due now (a retry waits for its `retryAt`) under a lease:
 * INGESTING, `leaseOwner`, `leaseUntil`, attempts + 1. Fair across tenants: each tenant's
 * oldest episodes are dealt by turns (engine-scope.ts: byTurns), every tenant's first before
 * anyone's second, so one tenant's backlog never starves another tenant's single episode. Both
 * reads seek the status indexes with every key property in the predicate and a hint: the
 * status alone is only a prefix of them, and every episode of every tenant was scanned each
 * poll. Within a turn the tenants after `after` (the tenant of the caller's last claim) go
 * first, so claims of one slot at a time take turns too.
 */
export async function claimEpisodes(
  tx: Tx,
  workerId: string,
  limit: number,
  leaseMs: number,
  tenants: TenantScope = null,
  after: string | null = null,
): Promise<ClaimedEpisode[]> {
  const rows = await tx.run<ClaimedRow>({
    cypher: `
      MATCH (p:Episode) USING INDEX SEEK p:Episode(status, createdAt)
      WHERE p.status = 'PENDING' AND p.createdAt IS NOT NULL AND ${IN_SCOPE('p')}
      WITH DISTINCT p.tenantId AS tenant
      CALL (tenant) {
        MATCH (e:Episode) USING INDEX SEEK e:Episode(tenantId, status, createdAt)
        WHERE e.tenantId = tenant AND e.status = 'PENDING' AND e.createdAt IS NOT NULL
          AND (e.retryAt IS NULL OR e.retryAt <= datetime())
        RETURN e ORDER BY e.createdAt, e.id LIMIT $limit
      }
      ${byTurns('e', 'e.createdAt, e.id', '$limit', undefined, afterCursor('e', '$after'))}
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      // Checked again under the lock: another worker may have claimed it meanwhile.
      WITH e WHERE e.status = 'PENDING'
      SET e.status = 'INGESTING', e.leaseOwner = $workerId,
          e.leaseUntil = datetime() + duration({milliseconds: $leaseMs}),
          e.attempts = coalesce(e.attempts, 0) + 1, e.retryAt = null, e.updatedAt = datetime()
      RETURN ${CLAIMED}`,
    params: { workerId, limit: neo4j.int(limit), leaseMs: neo4j.int(leaseMs), tenants, after },
  });
  return rows.map(toClaimed);
}

/** Extends this worker's lease on an episode; false when it no longer holds it. */
export async function renewEpisodeLease(
  tx: Tx,
  episodeId: string,
  workerId: string,
  leaseMs: number,
): Promise<boolean> {
  const rows = await tx.run({
    cypher: `
      MATCH (e:Episode {id: $episodeId, status: 'INGESTING', leaseOwner: $workerId})
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      WITH e WHERE e.status = 'INGESTING' AND e.leaseOwner = $workerId
      SET e.leaseUntil = datetime() + duration({milliseconds: $leaseMs})
      RETURN 1 AS ok`,
    params: { episodeId, workerId, leaseMs: neo4j.int(leaseMs) },
  });
  return rows.length > 0;
}

/**
 * The fence of an ingestion's commit: locks the episode and says whether this worker still
 * holds its lease. The lock is held until the transaction ends, so a sweep cannot take the
 * episode back between this check and the commit. Then it locks the tenant's memory, so two
 * ingestions of one tenant never both create the entity neither saw.
 */
export async function holdEpisodeLease(
  tx: Tx,
  tenantId: string,
  episodeId: string,
  workerId: string,
): Promise<boolean> {
  const rows = await tx.run({
    cypher: `
      MATCH (e:Episode {id: $episodeId, tenantId: $tenantId})
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      WITH e WHERE e.status = 'INGESTING' AND e.leaseOwner = $workerId
      RETURN 1 AS ok`,
    params: { tenantId, episodeId, workerId },
  });
  if (rows.length === 0) return false;
  // The (:EngineLimit) scope constraint makes this MERGE safe from several processes.
  await tx.run({
    cypher: `
      MERGE (l:EngineLimit {scope: 'memory:' + $tenantId})
      ON CREATE SET l.tenantId = $tenantId
      ${lockAndBump('l', 'EngineLimit')}`,
    params: { tenantId },
  });
  return true;
}

/**
 * Whether the episode is still there, locked until the transaction ends: the removal of its
 * tenant deletes it (tenant-removal.repository.ts), and then nothing of its ingestion is written.
 */
export async function lockEpisodeIfThere(
  tx: Tx,
  tenantId: string,
  episodeId: string,
): Promise<boolean> {
  const rows = await tx.run({
    cypher: `MATCH (e:Episode {id: $episodeId, tenantId: $tenantId}) SET e:Episode RETURN 1 AS ok`,
    params: { tenantId, episodeId },
  });
  return rows.length > 0;
}

/** Ends an ingestion that committed: INGESTED, with its model calls; the lease released. */
export async function markIngested(
  tx: Tx,
  tenantId: string,
  episodeId: string,
  modelCalls: number,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (e:Episode {id: $episodeId, tenantId: $tenantId})
      SET e.status = 'INGESTED', e.modelCalls = $modelCalls, e.error = null,
          e.ingestedAt = datetime(), e.leaseOwner = null, e.leaseUntil = null,
          e.updatedAt = datetime()`,
    params: { tenantId, episodeId, modelCalls: neo4j.int(modelCalls) },
  });
}

/**
 * Ends a failed attempt while this worker holds the lease: PENDING again after `retryInMs`, or
 * FAILED (retryInMs null) with the error. Model calls made are added to the episode's count;
 * with `counted: false` (a budget's refusal) the attempt is given back too.
 * Returns the episode, or null when the lease was lost (nothing written).
 */
export async function markAttemptFailed(
  tx: Tx,
  episodeId: string,
  workerId: string,
  error: string,
  retryInMs: number | null,
  modelCalls: number,
  { counted = true }: { counted?: boolean } = {},
): Promise<Episode | null> {
  const [row] = await tx.run<{ e: NodeLike }>({
    cypher: `
      MATCH (e:Episode {id: $episodeId, status: 'INGESTING', leaseOwner: $workerId})
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      WITH e WHERE e.status = 'INGESTING' AND e.leaseOwner = $workerId
      SET e.status = CASE WHEN $retryInMs IS NULL THEN 'FAILED' ELSE 'PENDING' END,
          e.retryAt = CASE WHEN $retryInMs IS NULL THEN null
                           ELSE datetime() + duration({milliseconds: $retryInMs}) END,
          e.error = $error, e.modelCalls = coalesce(e.modelCalls, 0) + $modelCalls,
          e.attempts = CASE WHEN $counted THEN e.attempts ELSE e.attempts - 1 END,
          e.leaseOwner = null, e.leaseUntil = null, e.updatedAt = datetime()
      RETURN e`,
    params: {
      episodeId,
      workerId,
      error,
      retryInMs: retryInMs === null ? null : neo4j.int(retryInMs),
      modelCalls: neo4j.int(modelCalls),
      counted,
    },
  });
  return row ? toEpisode(row.e) : null;
}

export type ExpiredEpisode = {
  id: string;
  tenantId: string;
  failed: boolean;
  documentId: string | null;
};

/**
 * Gives back episodes whose worker did not renew the lease: PENDING again, or FAILED
 * once `maxAttempts` were spent (a FAILED chunk may end its document).
 */
export async function expireEpisodeLeases(
  tx: Tx,
  maxAttempts: number,
  tenants: TenantScope = null,
): Promise<ExpiredEpisode[]> {
  return tx.run<ExpiredEpisode>({
    cypher: `
      MATCH (e:Episode) USING INDEX SEEK e:Episode(status, createdAt)
      WHERE e.status = 'INGESTING' AND e.createdAt IS NOT NULL AND e.leaseUntil < datetime()
        AND ${IN_SCOPE('e')}
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      WITH e WHERE e.status = 'INGESTING' AND e.leaseUntil < datetime()
      SET e.status = CASE WHEN e.attempts >= $maxAttempts THEN 'FAILED' ELSE 'PENDING' END,
          e.error = $expired.before + e.leaseOwner + $expired.after,
          e.leaseOwner = null, e.leaseUntil = null, e.updatedAt = datetime()
      RETURN e.id AS id, e.tenantId AS tenantId, e.status = 'FAILED' AS failed,
        COLLECT { MATCH (e)-[:FROM_DOCUMENT]->(d:Document) RETURN d.id LIMIT 1 }[0] AS documentId`,
    params: { maxAttempts: neo4j.int(maxAttempts), tenants, expired: LEASE_EXPIRED },
  });
}

/**
 * Gives an episode back at once (this worker stops): PENDING, the attempt not counted. Only
 * while it still holds the lease, read under the episode's lock: one that expired meanwhile
 * keeps what the expiry made of it.
 */
export async function releaseEpisode(tx: Tx, episodeId: string, workerId: string): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (e:Episode {id: $episodeId})
      ${lockAndBump('e', 'Episode', 'claimVersion')}
      WITH e WHERE e.status = 'INGESTING' AND e.leaseOwner = $workerId
      SET e.status = 'PENDING', e.attempts = e.attempts - 1, e.leaseOwner = null,
          e.leaseUntil = null, e.updatedAt = datetime()`,
    params: { episodeId, workerId },
  });
}

/**
 * Sets a document's status once none of its chunks is left to ingest: FAILED when any chunk
 * failed, else INGESTED. Returns the status it has now. Counts under the document's lock: the
 * ends of its last two chunks at once each counted the other open, and it stayed INGESTING.
 */
export async function settleDocument(
  tx: Tx,
  tenantId: string,
  documentId: string,
): Promise<string | null> {
  const [row] = await tx.run<{ status: string }>({
    cypher: `
      MATCH (d:Document {tenantId: $tenantId, id: $documentId})
      ${lockAndBump('d', 'Document', 'settleVersion')}
      WITH d,
        COUNT { (e:Episode)-[:FROM_DOCUMENT]->(d) WHERE e.status IN ['PENDING', 'INGESTING'] } AS open,
        COUNT { (e:Episode {status: 'FAILED'})-[:FROM_DOCUMENT]->(d) } AS failed
      SET d.status = CASE WHEN open > 0 THEN d.status WHEN failed > 0 THEN 'FAILED' ELSE 'INGESTED' END,
          d.updatedAt = datetime()
      RETURN d.status AS status`,
    params: { tenantId, documentId },
  });
  return row?.status ?? null;
}

/** The root of a task's tree (itself when it has no parent): the TASK scope of its memories. */
export async function rootTaskOf(tx: Tx, tenantId: string, taskId: string): Promise<string> {
  const [row] = await tx.run<{ id: string }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId}) USING INDEX SEEK t:Task(id)
      OPTIONAL MATCH p = (t)-[:SUBTASK_OF*1..]->(root:Task) WHERE NOT (root)-[:SUBTASK_OF]->()
      RETURN coalesce(root.id, t.id) AS id`,
    params: { tenantId, taskId },
  });
  return row?.id ?? taskId;
}

/**
 * Links the tenant's knowledge items learned from the episode's run, or whose content names
 * one of the entities, to those entities (:Knowledge)-[:ABOUT]->(:Entity). Idempotent.
 */
export async function linkKnowledge(
  tx: Tx,
  tenantId: string,
  runId: string | null,
  entities: { id: string; name: string }[],
): Promise<number> {
  if (entities.length === 0) return 0;
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      UNWIND $entities AS x
      MATCH (n:Entity {tenantId: $tenantId, id: x.id}) USING INDEX SEEK n:Entity(id)
      CALL (n, x) {
        MATCH (k:Knowledge {tenantId: $tenantId})-[:LEARNED_FROM]->(run:Run {id: $runId})
        USING INDEX SEEK run:Run(id)
        WHERE toLower(k.content) CONTAINS toLower(x.name)
        MERGE (k)-[:ABOUT]->(n)
        RETURN count(k) AS linked
      }
      RETURN sum(linked) AS n`,
    params: { tenantId, runId, entities },
  });
  return Number(row?.n ?? 0);
}

/** From a merged entity `n` to `s`, the standing one it was merged into (merges of merges). */
const SURVIVOR = `MATCH (n)-[:MERGED_INTO*1..5]->(s:Entity) WHERE s.mergedInto IS NULL
      WITH *, s ORDER BY s.createdAt, s.id`;

/**
 * For entities merged away: the standing entity each was merged into, by id. Ingestion writes
 * to those instead when a person's merge moved an entity it had read (src/memory/ingest).
 */
export async function survivorsOf(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const rows = await tx.run<{ id: string; survivor: string }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (n:Entity {tenantId: $tenantId, id: id}) USING INDEX SEEK n:Entity(id)
      WHERE n.mergedInto IS NOT NULL
      ${SURVIVOR}
      RETURN id, collect(s.id)[0] AS survivor`,
    params: { tenantId, ids },
  });
  return new Map(rows.map((r) => [r.id, r.survivor]));
}

/**
 * For names that belong to entities merged away: the standing entity each was merged into
 * (following merges of merges), keyed by normalised name, so a merged name resolves to its
 * survivor instead of coming back as a new entity.
 */
export async function survivorsByNormNames(
  tx: Tx,
  tenantId: string,
  normNames: readonly string[],
): Promise<Map<string, string>> {
  const rows = await tx.run<{ normName: string; id: string }>({
    cypher: `
      UNWIND $normNames AS norm
      MATCH (n:Entity {tenantId: $tenantId, normName: norm}) USING INDEX SEEK n:Entity(tenantId, normName)
      WHERE n.mergedInto IS NOT NULL
      ${SURVIVOR}
      RETURN norm AS normName, collect(s.id)[0] AS id`,
    params: { tenantId, normNames },
  });
  return new Map(rows.map((r) => [r.normName, r.id]));
}

/** How many of the tenant's episodes are in each status (tests, the bench). */
export async function episodeCounts(tx: Tx, tenantId: string): Promise<Record<string, number>> {
  const rows = await tx.run<{ status: string; n: number }>({
    cypher: `
      MATCH (e:Episode {tenantId: $tenantId})
      USING INDEX SEEK e:Episode(tenantId, status, createdAt)
      WHERE e.status IS NOT NULL AND e.createdAt IS NOT NULL
      RETURN e.status AS status, count(e) AS n`,
    params: { tenantId },
  });
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
