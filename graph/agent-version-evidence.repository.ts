import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';
import { effectiveEvaluation } from './evaluation.repository.js';

/*
 * What proposeAgentVersion's reflection reads (issue 12): the agent's recent runs whose
 * effective score is low, each with its step, its result and every evaluation of it.
 */

export interface RunEvidence {
  runId: string;
  status: string;
  error: string | null;
  title: string;
  description: string | null;
  expectedOutput: string | null;
  result: string | null;
  score: number;
  verdict: string;
  evaluations: { source: string; score: number; reasons: string[]; comment: string | null }[];
}

/**
 * Among the agent's `window` latest ended runs, those whose effective score is below `below`,
 * lowest first, at most `limit`.
 */
export async function lowScoringRuns(
  tx: Tx,
  tenantId: string,
  agentId: string,
  o: { below: number; window: number; limit: number },
): Promise<RunEvidence[]> {
  return tx.run<RunEvidence & Record<string, unknown>>({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, id: $agentId})<-[:BY]-(r:Run)-[:OF]->(t:Task)
      USING INDEX SEEK a:Agent(id)
      WHERE r.status <> 'RUNNING'
      WITH r, t ORDER BY r.startedAt DESC LIMIT $window
      CALL (r) { ${effectiveEvaluation('r')} }
      WITH r, t, score, verdict WHERE score IS NOT NULL AND score < $below
      CALL (r) {
        MATCH (ev:Evaluation)-[:EVALUATES]->(r)
        WITH ev ORDER BY CASE ev.source WHEN 'PERSON' THEN 3 WHEN 'JUDGE' THEN 2 ELSE 1 END DESC
        RETURN collect({source: ev.source, score: ev.score, reasons: coalesce(ev.reasons, []),
                        comment: ev.comment}) AS evaluations
      }
      RETURN r.id AS runId, r.status AS status, r.error AS error, t.title AS title,
             t.description AS description, t.expectedOutput AS expectedOutput,
             t.result AS result, score, verdict, evaluations
      ORDER BY score, r.startedAt DESC LIMIT $limit`,
    params: {
      tenantId,
      agentId,
      below: o.below,
      window: neo4j.int(o.window),
      limit: neo4j.int(o.limit),
    },
  });
}
