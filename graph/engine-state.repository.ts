import type { CypherQuery, Tx } from './cypher.js';

const FINISHED = "['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']";

/**
 * The engine's view of tasks that a write changed or linked by hand (an import, createTask under
 * a parent, setTaskStatus, addTaskDependency), of the tasks right below or depending on them and
 * of their parents: the first unfinished orchestrated task the engine could not run
 * consistently, with why, or null. Run inside the write's transaction, so a refusal writes
 * nothing. The rules are those the engine keeps itself (graph/claim.repository.ts and its
 * neighbours):
 * - a step has at most one parent, and the parent of an orchestrated task is orchestrated;
 * - every unfinished step of a running workflow is orchestrated (the parent waits for it);
 * - a READY step's parent runs (IN_PROGRESS), its dependencies ended, and it has no steps;
 * - a step IN_PROGRESS holds a lease the sweep can expire, ending within the hour.
 */
export function engineStateProblemQuery(tenantId: string, ids: string[]): CypherQuery {
  return {
    cypher: `
      UNWIND $ids AS id
      MATCH (x:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK x:Task(id)
      CALL (x) {
        RETURN x AS t
        UNION
        MATCH (t:Task)-[:SUBTASK_OF|DEPENDS_ON]->(x) RETURN t
        UNION
        MATCH (x)-[:SUBTASK_OF]->(t:Task) RETURN t
      }
      WITH DISTINCT t WHERE t.orchestrated = true AND NOT t.status IN ${FINISHED}
      WITH t, [(t)-[:SUBTASK_OF]->(p:Task) | p] AS parents,
           [(t)-[:DEPENDS_ON]->(d:Task) | d.status] AS deps,
           [(t)<-[:SUBTASK_OF]-(s:Task) | s] AS steps
      WITH t, parents, deps, steps,
           [s IN steps WHERE coalesce(s.orchestrated, false) <> true
                          AND NOT s.status IN ${FINISHED} | s.id][0] AS manual
      WITH t, CASE
        WHEN size(parents) > 1 THEN 'has ' + toString(size(parents)) + ' SUBTASK_OF parents, but a step has one'
        WHEN size(parents) = 1 AND coalesce(parents[0].orchestrated, false) <> true
          THEN 'is orchestrated, but its parent is not (startWorkflow marks a whole workflow)'
        WHEN manual IS NOT NULL
          THEN 'has a step the engine does not run (Task "' + manual + '", not orchestrated), so it would wait for it for good'
        WHEN t.status = 'READY' AND size(parents) = 1 AND coalesce(parents[0].status, '') <> 'IN_PROGRESS'
          THEN 'is READY, but its parent is ' + CASE WHEN parents[0].status IS :: STRING THEN parents[0].status ELSE 'without a status' END + ', not IN_PROGRESS'
        WHEN t.status = 'READY' AND any(s IN deps WHERE NOT s IN ${FINISHED})
          THEN 'is READY, but a task it DEPENDS_ON has not ended'
        WHEN t.status = 'READY' AND size(steps) > 0
          THEN 'is READY, but has steps of its own (a parent that runs is IN_PROGRESS)'
        WHEN t.status = 'IN_PROGRESS' AND size(steps) = 0
             AND (t.leaseOwner IS NULL OR t.leaseExpiresAt IS NULL)
          THEN 'is an IN_PROGRESS step without a lease (leaseOwner, leaseExpiresAt), so no worker would finish or reclaim it'
        WHEN t.status = 'IN_PROGRESS' AND size(steps) = 0
             AND t.leaseExpiresAt > datetime() + duration({hours: 1})
          THEN 'holds a lease that ends more than an hour from now'
        ELSE null END AS problem
      WHERE problem IS NOT NULL
      RETURN t.id AS id, problem ORDER BY t.id LIMIT 1`,
    params: { tenantId, ids },
  };
}

export async function engineStateProblem(
  tx: Tx,
  tenantId: string,
  ids: string[],
): Promise<{ id: string; problem: string } | null> {
  if (ids.length === 0) return null;
  const [row] = await tx.run<{ id: string; problem: string }>(
    engineStateProblemQuery(tenantId, ids),
  );
  return row ?? null;
}
