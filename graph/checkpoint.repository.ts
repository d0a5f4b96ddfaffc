import neo4j from 'neo4j-driver';
import type { CypherQuery, Tx } from './cypher.js';
import { FINISHED, IN_SCOPE, type TenantScope } from './engine-scope.js';
import { iso } from './mappers.js';
import { lockAndBump } from './locks.js';

/**
 * Agent-loop checkpoints (issue 13): LangGraph's checkpoints and pending writes as
 * `(:Run)-[:CHECKPOINTED]->(:Checkpoint)<-[:FOR]-(:CheckpointWrite)`, keyed by (tenantId,
 * threadId, ns, checkpointId) and, for writes, (taskId, idx) too (migration 19). Serialised
 * values are byte arrays; Neo4j stores them as they are. Every statement filters on the tenant.
 */

/** Which checkpoint: LangGraph's (thread_id, checkpoint_ns, checkpoint_id). */
export interface CheckpointKey {
  threadId: string;
  ns: string;
  checkpointId: string;
}

export interface CheckpointRecord extends CheckpointKey {
  parentCheckpointId: string | null;
  /** The serialiser's type tag and bytes of the checkpoint and of its metadata. */
  type: string;
  checkpoint: Uint8Array;
  metadataType: string;
  metadata: Uint8Array;
  /** Read from the metadata and the checkpoint when written, so listings need not decode. */
  step: number;
  source: string;
  next: string[];
  messageCount: number;
  bytes: number;
}

export interface CheckpointWriteRecord {
  taskId: string;
  idx: number;
  channel: string;
  type: string;
  value: Uint8Array;
  taskPath: string;
}

export interface StoredCheckpoint extends CheckpointRecord {
  id: string;
  createdAt: string;
  writes: CheckpointWriteRecord[];
}

/** What `Run.checkpoints` shows: no blobs. */
export interface CheckpointSummary {
  id: string;
  runId: string;
  checkpointId: string;
  step: number;
  source: string;
  createdAt: string;
  next: string[];
  messageCount: number;
  bytes: number;
}

// Takes the run's write lock before reading its status, so a put racing the run's end
// (endRun locks and ends it) either commits before the end or sees it ended.
const LIVE_RUN = `
  MATCH (r:Run {id: $runId, tenantId: $tenantId}) USING INDEX SEEK r:Run(id)
  ${lockAndBump('r', 'Run', 'checkpointWrites')}
  WITH r WHERE r.status = 'RUNNING'`;

/**
 * Stores one checkpoint (replacing one of the same key) linked to the run, only while that
 * run is RUNNING; false when it is not (nothing written by this statement). In the same
 * statement, deletes the thread's checkpoints in that namespace beyond the newest `keep` (by
 * checkpoint id, which LangGraph makes time-ordered) with their writes, never one a fork
 * starts from: one round trip a put, where a second statement held the run's lock longer.
 */
export async function putCheckpoint(
  tx: Tx,
  tenantId: string,
  runId: string,
  c: CheckpointRecord,
  keep: number,
): Promise<boolean> {
  const rows = await tx.run({
    cypher: `${LIVE_RUN}
      MERGE (c:Checkpoint {tenantId: $tenantId, threadId: $c.threadId, ns: $c.ns, checkpointId: $c.checkpointId})
      ON CREATE SET c.id = randomUUID(), c.createdAt = datetime()
      SET c.parentCheckpointId = $c.parentCheckpointId, c.type = $c.type, c.checkpoint = $c.checkpoint,
          c.metadataType = $c.metadataType, c.metadata = $c.metadata, c.step = $c.step,
          c.source = $c.source, c.next = $c.next, c.messageCount = $c.messageCount,
          c.bytes = $c.bytes, c.updatedAt = datetime()
      MERGE (r)-[:CHECKPOINTED]->(c)
      WITH c
      CALL () {
        // The hint: with few checkpoints in the statistics, the planner scanned every one.
        MATCH (old:Checkpoint {tenantId: $tenantId, threadId: $c.threadId, ns: $c.ns})
        USING INDEX SEEK old:Checkpoint(tenantId, threadId, ns, checkpointId)
        WHERE old.checkpointId IS NOT NULL
        WITH old ORDER BY old.checkpointId DESC SKIP $keep
        // Under its lock: a fork that started from it meanwhile is seen.
        SET old:Checkpoint
        WITH old WHERE NOT EXISTS { ()-[:FORKED_FROM]->(old) }
        OPTIONAL MATCH (w:CheckpointWrite)-[:FOR]->(old)
        DETACH DELETE w
        WITH DISTINCT old
        DETACH DELETE old
      }
      RETURN c.id AS id`,
    params: {
      tenantId,
      runId,
      keep: neo4j.int(keep),
      c: {
        ...c,
        checkpoint: bytesIn(c.checkpoint),
        metadata: bytesIn(c.metadata),
        step: neo4j.int(c.step),
        messageCount: neo4j.int(c.messageCount),
        bytes: neo4j.int(c.bytes),
      },
    },
  });
  return rows.length > 0;
}

/**
 * Stores pending writes of one task against a checkpoint, only while the run is RUNNING.
 * A write with idx >= 0 is kept if already there (a repeated call changes nothing); one with
 * idx < 0 (LangGraph's special writes: errors, interrupts) replaces. 'refused' when the run
 * is not RUNNING, 'missing' when the checkpoint does not exist (nothing written either way).
 */
export async function putCheckpointWrites(
  tx: Tx,
  tenantId: string,
  runId: string,
  key: CheckpointKey,
  writes: CheckpointWriteRecord[],
): Promise<'written' | 'refused' | 'missing'> {
  const [row] = await tx.run<{ found: boolean }>({
    cypher: `${LIVE_RUN}
      OPTIONAL MATCH (c:Checkpoint {tenantId: $tenantId, threadId: $threadId, ns: $ns, checkpointId: $checkpointId})
      USING INDEX SEEK c:Checkpoint(tenantId, threadId, ns, checkpointId)
      CALL (c) {
        WITH c WHERE c IS NOT NULL
        UNWIND $writes AS w
        MERGE (x:CheckpointWrite {tenantId: $tenantId, threadId: $threadId, ns: $ns,
                                  checkpointId: $checkpointId, taskId: w.taskId, idx: w.idx})
        ON CREATE SET x.id = randomUUID(), x.createdAt = datetime(), x.channel = w.channel,
                      x.type = w.type, x.value = w.value, x.taskPath = w.taskPath
        ON MATCH SET x.channel = CASE WHEN w.idx < 0 THEN w.channel ELSE x.channel END,
                     x.type = CASE WHEN w.idx < 0 THEN w.type ELSE x.type END,
                     x.value = CASE WHEN w.idx < 0 THEN w.value ELSE x.value END,
                     x.taskPath = CASE WHEN w.idx < 0 THEN w.taskPath ELSE x.taskPath END
        MERGE (x)-[:FOR]->(c)
      }
      RETURN c IS NOT NULL AS found`,
    params: {
      tenantId,
      runId,
      ...key,
      writes: writes.map((w) => ({ ...w, idx: neo4j.int(w.idx), value: bytesIn(w.value) })),
    },
  });
  if (!row) return 'refused';
  return row.found ? 'written' : 'missing';
}

/** Which checkpoints `listCheckpoints` reads; unset fields do not filter. */
export interface CheckpointQuery {
  threadId?: string;
  ns?: string;
  checkpointId?: string;
  /** Only checkpoints with an id below this one. */
  before?: string;
  skip: number;
  limit: number;
}

/**
 * The query behind getTuple and list, built apart from running it: only the filters given
 * are added (as property-map predicates the checkpoint_key index serves). Ordered as
 * LangGraph's MemorySaver lists: by thread, namespace, then newest checkpoint first.
 */
export function checkpointsQuery(tenantId: string, q: CheckpointQuery): CypherQuery {
  // Every key property, given or not (all are always set): only then can the hint seek the
  // key's index by its given prefix. Planned with few checkpoints in the statistics, a
  // thread's newest was found by scanning every checkpoint of every tenant; a plain USING
  // INDEX was met by scanning the whole key index instead (CI, after the whole suite).
  const given = { tenantId: true, threadId: q.threadId, ns: q.ns, checkpointId: q.checkpointId };
  const where = Object.entries(given).map(([key, value]) =>
    value === undefined ? `c.${key} IS NOT NULL` : `c.${key} = $${key}`,
  );
  if (q.before !== undefined) where.push('c.checkpointId < $before');
  return {
    cypher: `
      MATCH (c:Checkpoint) USING INDEX SEEK c:Checkpoint(tenantId, threadId, ns, checkpointId)
      WHERE ${where.join(' AND ')}
      WITH c ORDER BY c.threadId, c.ns, c.checkpointId DESC SKIP $skip LIMIT $limit
      CALL (c) {
        OPTIONAL MATCH (w:CheckpointWrite)-[:FOR]->(c)
        RETURN collect(w {.*}) AS writes
      }
      RETURN c {.*} AS c, writes`,
    params: {
      tenantId,
      threadId: q.threadId ?? null,
      ns: q.ns ?? null,
      checkpointId: q.checkpointId ?? null,
      before: q.before ?? null,
      skip: neo4j.int(q.skip),
      limit: neo4j.int(q.limit),
    },
  };
}

/** Checkpoints (with their pending writes) of one tenant, as `checkpointsQuery` selects. */
export async function listCheckpoints(
  tx: Tx,
  tenantId: string,
  q: CheckpointQuery,
): Promise<StoredCheckpoint[]> {
  const rows = await tx.run<{ c: Record<string, unknown>; writes: Record<string, unknown>[] }>(
    checkpointsQuery(tenantId, q),
  );
  return rows.map((r) => toStoredCheckpoint(r.c, r.writes));
}

/**
 * Deletes every checkpoint and pending write of a thread (all namespaces) of one tenant. The
 * thread is a prefix of each key's index: only with every key property in the predicate and a
 * hint does Neo4j seek it rather than scan every tenant's checkpoints.
 */
export async function deleteThreadCheckpoints(
  tx: Tx,
  tenantId: string,
  threadId: string,
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      OPTIONAL MATCH (w:CheckpointWrite)
        USING INDEX SEEK w:CheckpointWrite(tenantId, threadId, ns, checkpointId, taskId, idx)
        WHERE w.tenantId = $tenantId AND w.threadId = $threadId AND w.ns IS NOT NULL
          AND w.checkpointId IS NOT NULL AND w.taskId IS NOT NULL AND w.idx IS NOT NULL
      DETACH DELETE w
      WITH count(w) AS writes
      OPTIONAL MATCH (c:Checkpoint) USING INDEX SEEK c:Checkpoint(tenantId, threadId, ns, checkpointId)
        WHERE c.tenantId = $tenantId AND c.threadId = $threadId AND c.ns IS NOT NULL
          AND c.checkpointId IS NOT NULL
      DETACH DELETE c
      RETURN count(c) AS n`,
    params: { tenantId, threadId },
  });
  return row?.n ?? 0;
}

/**
 * Deletes up to `batch` checkpoints older than `olderThanHours` (with their writes) whose
 * threads are done: no run that wrote them belongs to a task still open (a task that is not
 * COMPLETED, FAILED, CANCELLED or SKIPPED). A checkpoint a fork starts from (FORKED_FROM) is
 * kept, checked again under its lock: a fork made while this waited for it keeps its source.
 * Returns how many were deleted.
 */
export async function pruneFinishedCheckpoints(
  tx: Tx,
  o: { olderThanHours: number; batch: number; tenants: TenantScope },
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (c:Checkpoint)
      WHERE c.createdAt < datetime() - duration({hours: $hours}) AND ${IN_SCOPE('c')}
        AND NOT EXISTS { ()-[:FORKED_FROM]->(c) }
        AND NOT EXISTS { (c)<-[:CHECKPOINTED]-(:Run)-[:OF]->(t:Task) WHERE NOT t.status IN ${FINISHED} }
      WITH c LIMIT $batch
      SET c:Checkpoint
      WITH c WHERE NOT EXISTS { ()-[:FORKED_FROM]->(c) }
      OPTIONAL MATCH (w:CheckpointWrite)-[:FOR]->(c)
      DETACH DELETE w
      WITH DISTINCT c
      DETACH DELETE c
      RETURN count(c) AS n`,
    params: { hours: o.olderThanHours, batch: neo4j.int(o.batch), tenants: o.tenants },
  });
  return row?.n ?? 0;
}

/** The newest `first` checkpoints of each run (no blobs), for `Run.checkpoints`. */
export async function checkpointsByRunIds(
  tx: Tx,
  tenantId: string,
  runIds: readonly string[],
  first: number,
): Promise<CheckpointSummary[]> {
  const rows = await tx.run<{ runId: string; c: Record<string, unknown> }>({
    cypher: `
      UNWIND $runIds AS runId
      MATCH (r:Run {id: runId, tenantId: $tenantId}) USING INDEX SEEK r:Run(id)
      CALL (r) {
        MATCH (r)-[:CHECKPOINTED]->(c)
        RETURN c ORDER BY c.checkpointId DESC LIMIT $first
      }
      RETURN runId, c {.id, .checkpointId, .step, .source, .createdAt, .next, .messageCount, .bytes} AS c`,
    params: { tenantId, runIds, first: neo4j.int(first) },
  });
  return rows.map(({ runId, c }) => ({
    id: String(c.id),
    runId,
    checkpointId: String(c.checkpointId),
    step: Number(c.step ?? 0),
    source: String(c.source ?? ''),
    createdAt: iso(c.createdAt),
    next: (c.next as string[] | null) ?? [],
    messageCount: Number(c.messageCount ?? 0),
    bytes: Number(c.bytes ?? 0),
  }));
}

/** The driver writes Int8Array as Bolt bytes (a Uint8Array would be a list of integers). */
function bytesIn(b: Uint8Array): Int8Array {
  return new Int8Array(b.buffer, b.byteOffset, b.byteLength);
}

function bytesOut(b: unknown): Uint8Array {
  const a = b as Int8Array;
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function toStoredCheckpoint(
  c: Record<string, unknown>,
  writes: Record<string, unknown>[],
): StoredCheckpoint {
  return {
    id: String(c.id),
    createdAt: iso(c.createdAt),
    threadId: String(c.threadId),
    ns: String(c.ns),
    checkpointId: String(c.checkpointId),
    parentCheckpointId: (c.parentCheckpointId as string | null) ?? null,
    type: String(c.type),
    checkpoint: bytesOut(c.checkpoint),
    metadataType: String(c.metadataType),
    metadata: bytesOut(c.metadata),
    step: Number(c.step ?? 0),
    source: String(c.source ?? ''),
    next: (c.next as string[] | null) ?? [],
    messageCount: Number(c.messageCount ?? 0),
    bytes: Number(c.bytes ?? 0),
    writes: writes.map((w) => ({
      taskId: String(w.taskId),
      idx: Number(w.idx),
      channel: String(w.channel),
      type: String(w.type),
      value: bytesOut(w.value),
      taskPath: String(w.taskPath ?? ''),
    })),
  };
}
