import {
  verdictOf,
  type Evaluation,
  type EvaluationSource,
  type Verdict,
} from '../src/domain/evaluation.js';
import { batched } from './batch.js';
import { FINISHED } from './engine-scope.js';
import type { Tx } from './cypher.js';
import { iso } from './mappers.js';
import type { NodeLike } from './page.js';

/*
 * Evaluations (issue 12): (:Evaluation)-[:EVALUATES]->(:Run|:Task). Written by the engine
 * (objective), the judge chain and people; read by analytics, lessons' efficacy and canaries.
 */

/**
 * The evaluation that counts for the subject bound to `subject` (a Run or Task variable): a
 * person's over the judge's over the objective one, the latest within a source. Use it as
 * `CALL (r) { ${effectiveEvaluation('r')} }`; it yields `score`, `verdict` and `source`
 * (all null when the subject has no evaluation). The one place this rule is written in Cypher.
 */
export function effectiveEvaluation(subject: string): string {
  return `${effectiveFirst(subject)}
        RETURN ev.score AS score, ev.verdict AS verdict, ev.source AS source`;
}

/** The same rule, yielding the whole node as `effective` (null when none): for reads that show it. */
export function effectiveEvaluationNode(subject: string): string {
  return `${effectiveFirst(subject)}
        RETURN ev AS effective`;
}

/** The rule itself: the subject's evaluations, the one that counts first. */
function effectiveFirst(subject: string): string {
  return `
        OPTIONAL MATCH (ev:Evaluation)-[:EVALUATES]->(${subject})
        WITH ev ORDER BY CASE ev.source WHEN 'PERSON' THEN 3 WHEN 'JUDGE' THEN 2 ELSE 1 END DESC,
                         ev.createdAt DESC
        LIMIT 1`;
}

/** The effective score of each run (absent when a run has none). */
export async function effectiveRunScores(
  tx: Tx,
  tenantId: string,
  runIds: readonly string[],
): Promise<Map<string, { score: number; verdict: string; source: string }>> {
  const rows = await tx.run<{ id: string; score: number | null; verdict: string; source: string }>({
    cypher: `
      UNWIND $runIds AS id
      MATCH (r:Run {id: id}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
      CALL (r) { ${effectiveEvaluation('r')} }
      RETURN id, score, verdict, source`,
    params: { tenantId, runIds },
  });
  return new Map(
    rows
      .filter((r) => r.score !== null)
      .map((r) => [r.id, { score: r.score!, verdict: r.verdict, source: r.source }]),
  );
}

/** What writeEvaluation needs; the verdict follows from the score unless given. */
export type NewEvaluation = Omit<Evaluation, 'verdict' | 'createdAt'> & { verdict?: Verdict };

/**
 * Writes (or replaces, by id) an evaluation of a Run or Task of the tenant; null when the subject
 * is not the tenant's. Ids are stable per (subject, source[, person]), so a retried transaction
 * or a re-rating MERGEs onto the same node.
 */
export function writeEvaluation(tx: Tx, e: NewEvaluation): Promise<Evaluation | null> {
  return batched(tx, writeEvaluationBatch, e, [e.id]);
}

/**
 * Writes (or replaces) the evaluation `e` (an `evaluationParam`) of the subject bound to `s`,
 * the tenant's, as `ev`: for writeEvaluationBatch, and for the statement that ends a run
 * (run.repository.ts: endRun's `evaluation`).
 */
export const WRITE_EVALUATION = (e: string, s: string) => `
      MERGE (ev:Evaluation {id: ${e}.id})
        ON CREATE SET ev.tenantId = ${e}.tenantId
      SET ev.source = ${e}.source, ev.score = ${e}.score, ev.verdict = ${e}.verdict,
          ev.rubric = ${e}.rubric, ev.reasons = ${e}.reasons, ev.comment = ${e}.comment,
          ev.by = ${e}.by, ev.offline = ${e}.offline, ev.createdAt = datetime()
      MERGE (ev)-[:EVALUATES]->(${s})`;

/** An evaluation as WRITE_EVALUATION takes it: its verdict follows from the score unless given. */
export const evaluationParam = (e: NewEvaluation) => ({
  ...e,
  verdict: e.verdict ?? verdictOf(e.score),
});

/** Evaluations written at once on one transaction (a group commit's ends) share a statement. */
async function writeEvaluationBatch(
  tx: Tx,
  evaluations: NewEvaluation[],
): Promise<(Evaluation | null)[]> {
  const rows = await tx.run<{ ev: NodeLike; label: string; subjectId: string }>({
    cypher: `
      UNWIND $evaluations AS e
      CALL (e) {
        MATCH (s:Run {id: e.subjectId}) WHERE e.subjectLabel = 'Run' RETURN s
        UNION MATCH (s:Task {id: e.subjectId}) WHERE e.subjectLabel = 'Task' RETURN s
      }
      WITH e, s WHERE s.tenantId = e.tenantId
      ${WRITE_EVALUATION('e', 's')}
      // A finished root was judged: its family may now be recurring, or its verdict changed.
      // The skills pass looks at the family (graph/skill.repository.ts: skillSources).
      FOREACH (_ IN CASE WHEN s:Task AND s.status IN ${FINISHED} AND s.family IS NOT NULL
                          AND NOT EXISTS { (s)-[:SUBTASK_OF]->() } THEN [1] ELSE [] END |
        SET s.skillDueAt = datetime())
      // A person's rating of an ended run is feedback reflection has not read: the run is due
      // again, though reflected on already (graph/reflection.repository.ts).
      FOREACH (_ IN CASE WHEN s:Run AND e.source = 'PERSON' AND s.status IN ['SUCCEEDED', 'FAILED']
                    THEN [1] ELSE [] END |
        REMOVE s.reflectedAt, s.reflectSkipped, s.reflectFailures
        SET s.reflectionDueAt = datetime())
      RETURN ev, e.subjectLabel AS label, s.id AS subjectId`,
    params: { evaluations: evaluations.map(evaluationParam) },
  });
  const written = new Map(
    rows.map((r) => {
      const ev = toEvaluation(r.ev, r.label as Evaluation['subjectLabel'], r.subjectId);
      return [ev.id, ev];
    }),
  );
  return evaluations.map((e) => written.get(e.id) ?? null);
}

export function toEvaluation(
  node: NodeLike,
  subjectLabel: Evaluation['subjectLabel'],
  subjectId: string,
): Evaluation {
  const p = node.properties as Record<string, unknown>;
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    subjectLabel,
    subjectId,
    source: p.source as EvaluationSource,
    score: Number(p.score),
    verdict: p.verdict as Verdict,
    rubric: String(p.rubric ?? ''),
    reasons: (p.reasons as string[] | null) ?? [],
    comment: (p.comment as string | null) ?? null,
    by: (p.by as string | null) ?? null,
    offline: p.offline === true,
    createdAt: iso(p.createdAt),
  };
}

/** A Run or Task by id (any tenant: callers filter), by label so the id index is used. */
const SUBJECT = (id: string) => `
      CALL (${id}) {
        MATCH (s:Run {id: ${id}}) WHERE $label = 'Run' RETURN s
        UNION MATCH (s:Task {id: ${id}}) WHERE $label = 'Task' RETURN s
      }`;

/**
 * Every evaluation of these Runs or Tasks of the tenant, newest first. Read from each subject,
 * as effectiveFirst reads them, not by the tenant's Evaluations (consensus.repository.ts says
 * why: work that grows with the tenant's history, an index a reader may find behind).
 */
export async function evaluationsBySubjectIds(
  tx: Tx,
  tenantId: string,
  label: Evaluation['subjectLabel'],
  subjectIds: readonly string[],
): Promise<Evaluation[]> {
  const rows = await tx.run<{ ev: NodeLike; subjectId: string }>({
    cypher: `
      UNWIND $subjectIds AS id
      ${SUBJECT('id')}
      WITH s WHERE s.tenantId = $tenantId
      MATCH (ev:Evaluation)-[:EVALUATES]->(s)
      RETURN ev, s.id AS subjectId
      ORDER BY ev.createdAt DESC, ev.id`,
    params: { tenantId, label, subjectIds },
  });
  return rows.map((r) => toEvaluation(r.ev, label, r.subjectId));
}

/** The effective evaluation of each subject that has one (effectiveEvaluationNode's rule). */
export async function effectiveBySubjectIds(
  tx: Tx,
  tenantId: string,
  label: Evaluation['subjectLabel'],
  subjectIds: readonly string[],
): Promise<Evaluation[]> {
  const rows = await tx.run<{ ev: NodeLike; subjectId: string }>({
    cypher: `
      UNWIND $subjectIds AS id
      ${SUBJECT('id')}
      WITH s WHERE s.tenantId = $tenantId
      CALL (s) { ${effectiveEvaluationNode('s')} }
      WITH s, effective WHERE effective IS NOT NULL
      RETURN effective AS ev, s.id AS subjectId`,
    params: { tenantId, label, subjectIds },
  });
  return rows.map((r) => toEvaluation(r.ev, label, r.subjectId));
}
