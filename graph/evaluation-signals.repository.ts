import type { Tx } from './cypher.js';
import { REMOVED_FROM_PLAN } from './engine-scope.js';

/*
 * What evaluations are scored from (issue 12): a root task's steps, and whether a
 * subject a person rates exists for the tenant and has finished.
 */

export type RootTaskState = {
  id: string;
  tenantId: string;
  title: string;
  status: string;
  /** Each `removed` from its plan by approvePlan or not (inPlan). */
  steps: {
    title: string;
    status: string;
    attempts: number;
    error: string | null;
    removed: boolean;
  }[];
};

/** A task with its direct steps, when it is a root (no parent); null for a step or an unknown id. */
export async function rootTaskState(tx: Tx, taskId: string): Promise<RootTaskState | null> {
  const [row] = await tx.run<RootTaskState>({
    cypher: `
      MATCH (t:Task {id: $taskId}) WHERE NOT EXISTS { (t)-[:SUBTASK_OF]->() }
      OPTIONAL MATCH (c:Task)-[:SUBTASK_OF]->(t)
      WITH t, c ORDER BY c.createdAt, c.id
      RETURN t.id AS id, t.tenantId AS tenantId, t.title AS title, t.status AS status,
             [x IN collect(c) | {title: x.title, status: x.status, attempts: toFloat(coalesce(x.attempts, 0)),
                                 error: x.error, removed: ${REMOVED_FROM_PLAN('x')}}] AS steps`,
    params: { taskId },
  });
  if (!row) return null;
  return { ...row, steps: row.steps.map((s) => ({ ...s, attempts: Number(s.attempts) })) };
}

/** A Run or Task of the tenant, with its status; null when the tenant has no such subject. */
export async function subjectStatus(
  tx: Tx,
  tenantId: string,
  label: 'Run' | 'Task',
  id: string,
): Promise<{ status: string; title: string } | null> {
  const [row] = await tx.run<{ status: string; title: string }>({
    cypher: `
      CALL () {
        MATCH (s:Run {id: $id}) WHERE $label = 'Run'
        OPTIONAL MATCH (s)-[:OF]->(t:Task)
        RETURN s, t.title AS title
        UNION MATCH (s:Task {id: $id}) WHERE $label = 'Task' RETURN s, s.title AS title
      }
      WITH s, title WHERE s.tenantId = $tenantId
      RETURN s.status AS status, coalesce(title, '') AS title`,
    params: { tenantId, label, id },
  });
  return row ?? null;
}
