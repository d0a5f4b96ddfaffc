import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';
import { byTurns, scopedDue, type TenantScope } from './engine-scope.js';
import { effectiveEvaluation } from './evaluation.repository.js';
import { lockAndBump } from './locks.js';

/*
 * Which runs the lessons loop reflects on (issue 12): runs not yet reflected on carry no
 * `reflectedAt`; a claim sets it, a failed reflection gives the run back. The lessons drawn
 * from them are in lesson.repository.ts.
 */

/** A run to reflect on, with what its task was and what its judges said. */
export interface ReflectionSubject {
  tenantId: string;
  runId: string;
  taskId: string;
  title: string;
  description: string | null;
  result: string | null;
  error: string | null;
  family: string | null;
  capability: string | null;
  score: number;
  verdict: string;
  /** A person's comments first, then the judge's reasons and feedback. */
  feedback: string[];
}

/** The feedback of a run: people's comments (latest first), then the judge's reasons. */
const FEEDBACK = (r: string) => `
  [ev IN [(ev:Evaluation)-[:EVALUATES]->(${r}) WHERE ev.source IN ['PERSON', 'JUDGE'] | ev]
     WHERE ev.source = 'PERSON' AND coalesce(ev.comment, '') <> '' | ev.comment] +
  reduce(acc = [], ev IN [(ev:Evaluation)-[:EVALUATES]->(${r}) WHERE ev.source = 'JUDGE' | ev] |
     acc + coalesce(ev.reasons, []) + CASE WHEN coalesce(ev.comment, '') = '' THEN [] ELSE [ev.comment] END)`;

const SUBJECT = (r: string, t: string) => `
  ${r}.tenantId AS tenantId, ${r}.id AS runId, ${t}.id AS taskId, ${t}.title AS title,
  ${t}.description AS description, ${t}.result AS result, ${r}.error AS error,
  ${t}.family AS family, head([(${t})-[:REQUIRES]->(c:Capability) | c.name]) AS capability,
  score, verdict, ${FEEDBACK(r)} AS feedback`;

/**
 * The scope's ended runs no pass has reflected on yet, read from their own index whatever the
 * statistics say: by `reflectedAt IS NULL` every ended run of every tenant was read each tick.
 */
const DUE = (tenants: TenantScope) => `
  ${scopedDue('r', 'Run', 'reflectionDueAt', tenants)}
    AND r.reflectionDueAt <= datetime()
    AND r.reflectedAt IS NULL AND r.status IN ['SUCCEEDED', 'FAILED']`;

/** Failed reflections of one run before it is given up (marked skipped, like a synthesis). */
export const MAX_REFLECTION_FAILURES = 3;

/**
 * Ended runs with an effective evaluation that no pass has reflected on yet, at most `limit`:
 * each tenant's oldest first, by turns between tenants (a run may cost a model call, and one
 * tenant's backlog must not hold another's runs back). Synthesis runs are left out: they
 * write no step of their own.
 */
export function unreflectedRuns(
  tx: Tx,
  tenants: TenantScope,
  limit: number,
): Promise<ReflectionSubject[]> {
  return tx.run<ReflectionSubject & Record<string, unknown>>({
    cypher: `
      ${DUE(tenants)}
      ${byTurns('r', 'r.endedAt, r.id', '$scan')}
      MATCH (r)-[:OF]->(t:Task) WHERE t.tenantId = r.tenantId AND coalesce(t.key, '') <> 'synthesis'
      CALL (r) { ${effectiveEvaluation('r')} }
      WITH r, t, score, verdict, turn WHERE score IS NOT NULL
      WITH r, t, score, verdict, turn ORDER BY turn, r.endedAt, r.id LIMIT $limit
      RETURN ${SUBJECT('r', 't')}`,
    params: { tenants, limit: neo4j.int(limit), scan: neo4j.int(limit * 20) },
  });
}

/**
 * Marks as reflected (skipped) the ended runs that reflection never takes, so they are not read
 * again every tick: synthesis runs, and runs still without any evaluation an hour after their
 * end (runs from before evaluations existed). At most `limit`.
 */
export async function skipUnreflectable(
  tx: Tx,
  tenants: TenantScope,
  limit: number,
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      ${DUE(tenants)}
      MATCH (r)-[:OF]->(t:Task)
      WITH r, t WHERE t.key = 'synthesis'
        OR (r.endedAt < datetime() - duration('PT1H') AND NOT EXISTS { (:Evaluation)-[:EVALUATES]->(r) })
      WITH r LIMIT $limit
      SET r.reflectedAt = datetime(), r.reflectSkipped = true, r.reflectionDueAt = null
      RETURN count(r) AS n`,
    params: { tenants, limit: neo4j.int(limit) },
  });
  return row?.n ?? 0;
}

/**
 * Marks a run reflected on; false when another process got there first (the conditional write
 * that makes reflection happen once across processes).
 */
export async function claimReflection(tx: Tx, tenantId: string, runId: string): Promise<boolean> {
  const rows = await tx.run({
    cypher: `
      MATCH (r:Run {id: $runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
      ${lockAndBump('r', 'Run', 'reflectVersion')}
      WITH r WHERE r.reflectedAt IS NULL
      SET r.reflectedAt = datetime(), r.reflectionDueAt = null
      RETURN r.id AS id`,
    params: { tenantId, runId },
  });
  return rows.length > 0;
}

/**
 * Gives a claimed run back (its reflection failed): a later tick tries again after 1, then 2
 * minutes; the third failure gives it up. Each try is a model call: a run whose reflection a
 * model kept failing was asked again every tick, forever.
 */
export async function releaseReflection(tx: Tx, tenantId: string, runId: string): Promise<void> {
  await tx.run({
    cypher: `MATCH (r:Run {id: $runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
             SET r.reflectFailures = coalesce(r.reflectFailures, 0) + 1
             WITH r, r.reflectFailures >= $max AS givenUp
             SET r.reflectedAt = CASE WHEN givenUp THEN r.reflectedAt END,
                 r.reflectSkipped = CASE WHEN givenUp THEN true ELSE r.reflectSkipped END,
                 r.reflectionDueAt = CASE WHEN givenUp THEN null
                   ELSE datetime() + duration({minutes: 2 ^ (r.reflectFailures - 1)}) END`,
    params: { tenantId, runId, max: neo4j.int(MAX_REFLECTION_FAILURES) },
  });
}

/**
 * The latest run of the family, ended before `runId` started, whose effective score is below
 * `below`: the failure a success is contrasted with. Null when there is none.
 */
export async function earlierFailure(
  tx: Tx,
  tenantId: string,
  runId: string,
  family: string,
  below: number,
): Promise<ReflectionSubject | null> {
  const [row] = await tx.run<ReflectionSubject & Record<string, unknown>>({
    cypher: `
      MATCH (s:Run {id: $runId}) USING INDEX SEEK s:Run(id) WHERE s.tenantId = $tenantId
      MATCH (t:Task {tenantId: $tenantId, family: $family})<-[:OF]-(r:Run)
      USING INDEX SEEK t:Task(tenantId, family)
      WHERE r.id <> s.id AND r.endedAt <= s.startedAt AND coalesce(t.key, '') <> 'synthesis'
      CALL (r) { ${effectiveEvaluation('r')} }
      WITH r, t, score, verdict WHERE score < $below
      WITH r, t, score, verdict ORDER BY r.endedAt DESC, r.id LIMIT 1
      RETURN ${SUBJECT('r', 't')}`,
    params: { tenantId, runId, family, below },
  });
  return row ?? null;
}
