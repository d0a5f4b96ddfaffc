import neo4j from 'neo4j-driver';
import type { Lesson, LessonStatus } from '../src/domain/lesson.js';
import type { Tx } from './cypher.js';
import { IN_SCOPE, type TenantScope } from './engine-scope.js';
import { effectiveEvaluation } from './evaluation.repository.js';
import { iso } from './mappers.js';
import { lockAndBump } from './locks.js';

/*
 * Lessons (issue 12): `(:Knowledge {kind: 'LESSON', status, capability, family, strength,
 * normText})`, DERIVED_FROM the runs they were drawn from and APPLIED_IN the runs whose prompts
 * carried them (graph/memory/applied.repository.ts). Runs reflected on carry `reflectedAt`;
 * ended runs not yet reflected on carry `reflectionDueAt` (its index is how reflection finds them).
 */

/** Lessons not retired with exactly this scope, for de-duplication. */
export function lessonsInScope(
  tx: Tx,
  tenantId: string,
  capability: string | null,
  family: string | null,
): Promise<{ id: string; content: string }[]> {
  return tx.run({
    cypher: `
      MATCH (l:Knowledge {tenantId: $tenantId, kind: 'LESSON'})
      WHERE l.status IN ['CANDIDATE', 'ACTIVE']
        AND coalesce(l.capability, '') = coalesce($capability, '')
        AND coalesce(l.family, '') = coalesce($family, '')
      RETURN l.id AS id, l.content AS content ORDER BY l.createdAt, l.id LIMIT 500`,
    params: { tenantId, capability, family },
  });
}

/** The lessons, not retired, that a run's prompts carried (APPLIED_IN), oldest first. */
export function followedLessons(
  tx: Tx,
  tenantId: string,
  runId: string,
): Promise<{ id: string; content: string }[]> {
  return tx.run({
    cypher: `
      MATCH (l:Knowledge {kind: 'LESSON'})-[:APPLIED_IN]->(r:Run {id: $runId})
      WHERE l.tenantId = $tenantId AND r.tenantId = $tenantId
        AND l.status IN ['CANDIDATE', 'ACTIVE']
      RETURN l.id AS id, l.content AS content ORDER BY l.createdAt, l.id LIMIT 20`,
    params: { tenantId, runId },
  });
}

/**
 * Writes a new CANDIDATE lesson DERIVED_FROM the runs (MERGE by id: the same lesson written
 * twice is one). Returns whether this call created it.
 */
export async function createLesson(
  tx: Tx,
  l: {
    id: string;
    tenantId: string;
    content: string;
    capability: string | null;
    family: string | null;
    runIds: string[];
  },
): Promise<boolean> {
  const tags = [l.capability, l.family].filter((t): t is string => !!t);
  const [row] = await tx.run<{ created: boolean }>({
    cypher: `
      MERGE (k:Knowledge {id: $id})
        ON CREATE SET k.tenantId = $tenantId, k.kind = 'LESSON', k.status = 'CANDIDATE',
          k.content = $content, k.confidence = 0.5, k.tags = $tags, k.tagText = $tagText,
          k.capability = $capability, k.family = $family, k.strength = 1, k.fresh = true,
          k.createdAt = datetime(), k.updatedAt = datetime()
      WITH k, coalesce(k.fresh, false) AS created
      REMOVE k.fresh
      WITH k, created
      CALL (k) {
        UNWIND $runIds AS runId
        MATCH (r:Run {id: runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
        MERGE (k)-[d:DERIVED_FROM]->(r) ON CREATE SET d.at = datetime()
      }
      RETURN created`,
    params: { ...l, tags, tagText: tags.join(' ') },
  });
  return row?.created ?? false;
}

/**
 * A near-copy was drawn again: the lesson gains the runs as DERIVED_FROM, and strength + 1 when
 * at least one of them is new (so a repeated write changes nothing).
 */
export async function strengthenLesson(
  tx: Tx,
  tenantId: string,
  id: string,
  runIds: string[],
): Promise<number | null> {
  const [row] = await tx.run<{ strength: number }>({
    cypher: `
      MATCH (k:Knowledge {id: $id})
      USING INDEX SEEK k:Knowledge(id) WHERE k.tenantId = $tenantId AND k.kind = 'LESSON'
      CALL (k) {
        UNWIND $runIds AS runId
        MATCH (r:Run {id: runId})
        USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId AND NOT (k)-[:DERIVED_FROM]->(r)
        MERGE (k)-[d:DERIVED_FROM]->(r) ON CREATE SET d.at = datetime()
        RETURN count(*) AS added
      }
      SET k.strength = coalesce(k.strength, 1) + CASE WHEN added > 0 THEN 1 ELSE 0 END,
          k.updatedAt = datetime()
      RETURN k.strength AS strength`,
    params: { tenantId, id, runIds },
  });
  return row?.strength ?? null;
}

/** A lesson as a prompt may carry it. */
export interface PromptLesson {
  id: string;
  content: string;
  status: 'ACTIVE' | 'CANDIDATE';
}

/**
 * The lessons that fit a task's run, RETIRED never: for a step (`planning` false) those whose
 * capability is one the task requires or none and whose family is the task's or none (at least
 * one of the two set); for planning, those of the task's family, whatever their capability.
 * ACTIVE first by their last measured efficacy, then CANDIDATEs by strength; at most `limit`.
 */
export function lessonsFor(
  tx: Tx,
  tenantId: string,
  taskId: string,
  planning: boolean,
  limit: number,
): Promise<PromptLesson[]> {
  return tx.run<PromptLesson & Record<string, unknown>>({
    cypher: `
      MATCH (t:Task {id: $taskId}) USING INDEX SEEK t:Task(id) WHERE t.tenantId = $tenantId
      WITH t, [(t)-[:REQUIRES]->(c:Capability) | c.name] AS caps
      MATCH (l:Knowledge {tenantId: $tenantId, kind: 'LESSON'})
      WHERE l.status IN ['ACTIVE', 'CANDIDATE']
        AND CASE WHEN $planning THEN l.family = t.family
            ELSE (l.capability IS NOT NULL OR l.family IS NOT NULL)
              AND (l.capability IS NULL OR l.capability IN caps)
              AND (l.family IS NULL OR l.family = t.family) END
      RETURN l.id AS id, l.content AS content, l.status AS status
      ORDER BY CASE l.status WHEN 'ACTIVE' THEN 0 ELSE 1 END,
               coalesce(l.efficacyDelta, 0) DESC, coalesce(l.strength, 1) DESC, l.createdAt, l.id
      LIMIT $limit`,
    params: { tenantId, taskId, planning, limit: neo4j.int(limit) },
  });
}

/** Counts of one lesson's two arms. */
export interface ArmCounts {
  id: string;
  applied: number;
  appliedSuccesses: number;
  notApplied: number;
  notAppliedSuccesses: number;
}

/**
 * For each lesson: the ended runs comparable with it (its family's tasks, those requiring its
 * capability, or both; synthesis left out; started since the lesson was made) that have an
 * effective evaluation, split into those it was APPLIED_IN and the others, with the PASSes of
 * each. With `recent`, only the latest `recent` runs of each arm count.
 */
export async function efficacyCounts(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  recent: number | null = null,
): Promise<Map<string, ArmCounts>> {
  const rows = await tx.run<ArmCounts & Record<string, unknown>>({
    cypher: `
      UNWIND $ids AS id
      MATCH (l:Knowledge {id: id}) USING INDEX SEEK l:Knowledge(id) WHERE l.tenantId = $tenantId
      CALL (l) {
        CALL (l) {
          MATCH (t:Task {tenantId: $tenantId, family: l.family}) WHERE l.family IS NOT NULL
          RETURN t
          UNION
          MATCH (:Capability {tenantId: $tenantId, name: l.capability})<-[:REQUIRES]-(t:Task)
          WHERE l.family IS NULL
          RETURN t
        }
        WITH l, t WHERE coalesce(t.key, '') <> 'synthesis'
          AND (l.capability IS NULL OR EXISTS {
                 (t)-[:REQUIRES]->(:Capability {tenantId: $tenantId, name: l.capability}) })
        MATCH (t)<-[:OF]-(r:Run)
        WHERE r.tenantId = $tenantId AND r.startedAt >= l.createdAt
          AND r.status IN ['SUCCEEDED', 'FAILED']
        CALL (r) { ${effectiveEvaluation('r')} }
        WITH l, r, verdict WHERE verdict IS NOT NULL
        WITH r, verdict, EXISTS { (l)-[:APPLIED_IN]->(r) } AS applied
        ORDER BY r.startedAt DESC, r.id
        WITH applied, collect(verdict = 'PASS') AS outcomes
        WITH applied, CASE WHEN $recent IS NULL THEN outcomes ELSE outcomes[0..$recent] END AS kept
        RETURN applied, size(kept) AS n, size([x IN kept WHERE x]) AS passes
      }
      WITH id, collect({applied: applied, n: n, passes: passes}) AS arms
      RETURN id,
        reduce(s = 0, a IN arms | s + CASE WHEN a.applied THEN a.n ELSE 0 END) AS applied,
        reduce(s = 0, a IN arms | s + CASE WHEN a.applied THEN a.passes ELSE 0 END) AS appliedSuccesses,
        reduce(s = 0, a IN arms | s + CASE WHEN a.applied THEN 0 ELSE a.n END) AS notApplied,
        reduce(s = 0, a IN arms | s + CASE WHEN a.applied THEN 0 ELSE a.passes END) AS notAppliedSuccesses`,
    params: { tenantId, ids, recent: recent === null ? null : neo4j.int(recent) },
  });
  const out = new Map(rows.map((r) => [r.id, r]));
  for (const id of ids) {
    if (!out.has(id))
      out.set(id, { id, applied: 0, appliedSuccesses: 0, notApplied: 0, notAppliedSuccesses: 0 });
  }
  return out;
}

/**
 * An ACTIVE lesson's applied runs split in two: the latest `recent` ("applied") and the ones
 * before them ("notApplied"), with their PASSes: whether it still works as it did.
 */
export async function driftCounts(
  tx: Tx,
  tenantId: string,
  id: string,
  recent: number,
): Promise<ArmCounts> {
  const [row] = await tx.run<ArmCounts & Record<string, unknown>>({
    cypher: `
      MATCH (l:Knowledge {id: $id})-[:APPLIED_IN]->(r:Run)
      USING INDEX SEEK l:Knowledge(id) WHERE l.tenantId = $tenantId
        AND r.tenantId = $tenantId AND r.status IN ['SUCCEEDED', 'FAILED']
      CALL (r) { ${effectiveEvaluation('r')} }
      WITH r, verdict WHERE verdict IS NOT NULL
      WITH r, verdict ORDER BY r.startedAt DESC, r.id
      WITH collect(verdict = 'PASS') AS outcomes
      WITH outcomes[0..$recent] AS latest, outcomes[$recent..] AS before
      RETURN $id AS id, size(latest) AS applied, size([x IN latest WHERE x]) AS appliedSuccesses,
             size(before) AS notApplied, size([x IN before WHERE x]) AS notAppliedSuccesses`,
    params: { tenantId, id, recent: neo4j.int(recent) },
  });
  return row ?? { id, applied: 0, appliedSuccesses: 0, notApplied: 0, notAppliedSuccesses: 0 };
}

/**
 * Lessons for the lifecycle to look at (CANDIDATE and ACTIVE), least recently reviewed first,
 * at most `limit`; each is stamped `reviewedAt` so the next tick takes the next ones. Read by
 * hint from the (kind, status) index: without it, each tick scanned all knowledge of all tenants.
 */
export function lessonsToReview(tx: Tx, tenants: TenantScope, limit: number): Promise<Lesson[]> {
  return tx
    .run<{ l: { properties: Record<string, unknown> } }>({
      cypher: `
        MATCH (l:Knowledge) USING INDEX SEEK l:Knowledge(kind, status)
        WHERE l.kind = 'LESSON' AND l.status IN ['CANDIDATE', 'ACTIVE'] AND ${IN_SCOPE('l')}
        WITH l ORDER BY l.reviewedAt IS NOT NULL, l.reviewedAt, l.id LIMIT $limit
        SET l.reviewedAt = datetime()
        RETURN l`,
      params: { tenants, limit: neo4j.int(limit) },
    })
    .then((rows) => rows.map((r) => toLesson(r.l.properties)));
}

/** Keeps the efficacy last measured, which orders ACTIVE lessons in prompts. */
export async function storeEfficacy(
  tx: Tx,
  tenantId: string,
  id: string,
  delta: number | null,
): Promise<void> {
  await tx.run({
    cypher: `MATCH (l:Knowledge {id: $id})
      USING INDEX SEEK l:Knowledge(id) WHERE l.tenantId = $tenantId SET l.efficacyDelta = $delta`,
    params: { tenantId, id, delta },
  });
}

/**
 * Moves a lesson from `from` to `to`, only if it is still in `from` (two processes cannot both
 * move it). Null when it was not (another process did, or no such lesson of the tenant).
 */
export async function moveLesson(
  tx: Tx,
  tenantId: string,
  id: string,
  from: readonly LessonStatus[],
  to: LessonStatus,
): Promise<{ lesson: Lesson; from: LessonStatus } | null> {
  const [row] = await tx.run<{ l: { properties: Record<string, unknown> }; was: LessonStatus }>({
    cypher: `
      MATCH (l:Knowledge {id: $id})
      USING INDEX SEEK l:Knowledge(id) WHERE l.tenantId = $tenantId AND l.kind = 'LESSON'
      ${lockAndBump('l', 'Knowledge')}
      // A lesson recorded by hand (recordKnowledge) has no status: a CANDIDATE, as toLesson reads.
      WITH l, coalesce(l.status, 'CANDIDATE') AS was WHERE was IN $from
      SET l.status = $to, l.updatedAt = datetime()
      RETURN l, was`,
    params: { tenantId, id, from, to },
  });
  return row ? { lesson: toLesson(row.l.properties), from: row.was } : null;
}

/** One lesson of the tenant, or null. */
export async function lessonById(tx: Tx, tenantId: string, id: string): Promise<Lesson | null> {
  const [row] = await tx.run<{ l: { properties: Record<string, unknown> } }>({
    cypher: `MATCH (l:Knowledge {id: $id})
      USING INDEX SEEK l:Knowledge(id) WHERE l.tenantId = $tenantId AND l.kind = 'LESSON' RETURN l`,
    params: { tenantId, id },
  });
  return row ? toLesson(row.l.properties) : null;
}

/** Per lesson: the runs it was derived from (oldest first) and how many runs it was applied in. */
export async function lessonLinks(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, { derivedFrom: string[]; appliedRuns: number }>> {
  const rows = await tx.run<{ id: string; derivedFrom: string[]; appliedRuns: number }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (l:Knowledge {id: id}) USING INDEX SEEK l:Knowledge(id) WHERE l.tenantId = $tenantId
      RETURN id,
        [(l)-[d:DERIVED_FROM]->(r:Run) WHERE r.tenantId = $tenantId | r.id] AS derivedFrom,
        COUNT { (l)-[:APPLIED_IN]->(r:Run) WHERE r.tenantId = $tenantId } AS appliedRuns`,
    params: { tenantId, ids },
  });
  return new Map(
    rows.map((r) => [r.id, { derivedFrom: r.derivedFrom, appliedRuns: r.appliedRuns }]),
  );
}

export function toLesson(p: Record<string, unknown>): Lesson {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    content: String(p.content ?? ''),
    status: ((p.status as LessonStatus | null) ?? 'CANDIDATE') as LessonStatus,
    capability: (p.capability as string | null) ?? null,
    family: (p.family as string | null) ?? null,
    strength: Number(p.strength ?? 1),
    createdAt: iso(p.createdAt),
  };
}
