import type { Tx } from './cypher.js';
import { MERGE_TENANT } from './auth.repository.js';
import { lockAndBump } from './locks.js';

/** Edges between tasks that must never close a cycle. */
export type TaskEdgeType = 'DEPENDS_ON' | 'SUBTASK_OF';

const PATHS: Record<TaskEdgeType, string> = {
  DEPENDS_ON: '[:DEPENDS_ON*1..]',
  SUBTASK_OF: '[:SUBTASK_OF*1..]',
};

/**
 * Takes the tenant's lock for edges between tasks that already exist (addTaskDependency,
 * approvePlan, importOrganisation), held until the commit. A cycle check reads paths that
 * another transaction may be closing at the same time through tasks neither of them locks
 * (a -> b and c -> d; one adds b -> c, the other d -> a): under this lock the second check
 * runs after the first commit and sees its edge. Take it before any task's lock, so that it
 * never waits in a circle with one. The tenant is made if missing, as ensureTenant would.
 */
export async function lockTaskEdges(tx: Tx, tenantId: string): Promise<void> {
  await tx.run({
    cypher: `${MERGE_TENANT}
      ${lockAndBump('t', 'Tenant', 'taskEdgeVersion')}`,
    params: { id: tenantId, name: tenantId },
  });
}

/**
 * The index of the first of `edges` (each `from -[type]-> to`, written or about to be) whose
 * `to` already reaches its `from` through edges of that type, so that it closes a cycle; null
 * when none does. One statement; each check is a shortest-path search between the edge's two
 * tasks, costing what their part of the graph holds. An edge's ends must differ: a task on an
 * edge to itself is a cycle the caller sees without the graph.
 */
export async function edgeClosingCycle(
  tx: Tx,
  tenantId: string,
  type: TaskEdgeType,
  edges: readonly { from: string; to: string }[],
): Promise<number | null> {
  if (edges.length === 0) return null;
  const [row] = await tx.run<{ i: number }>({
    cypher: `
      UNWIND range(0, size($edges) - 1) AS i
      WITH i, $edges[i] AS e
      MATCH (f:Task {tenantId: $tenantId, id: e.from}) USING INDEX SEEK f:Task(id)
      MATCH (t:Task {tenantId: $tenantId, id: e.to}) USING INDEX SEEK t:Task(id)
      MATCH p = shortestPath((t)-${PATHS[type]}->(f))
      RETURN i LIMIT 1`,
    params: { tenantId, edges },
  });
  return row ? row.i : null;
}
