import type { Tx } from './cypher.js';

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
  return `
        OPTIONAL MATCH (ev:Evaluation)-[:EVALUATES]->(${subject})
        WITH ev ORDER BY CASE ev.source WHEN 'PERSON' THEN 3 WHEN 'JUDGE' THEN 2 ELSE 1 END DESC,
                         ev.createdAt DESC
        LIMIT 1
        RETURN ev.score AS score, ev.verdict AS verdict, ev.source AS source`;
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
      MATCH (r:Run {id: id}) WHERE r.tenantId = $tenantId
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
