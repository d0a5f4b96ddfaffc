import type { Tx } from './cypher.js';

/*
 * Task families (issue 12): set on creation (task.repository createTasks, agent-work writePlan);
 * here what changes them afterwards.
 */

/** Gives a workflow's root and every task below it this family (startWorkflow's `family`). */
export async function setWorkflowFamily(
  tx: Tx,
  tenantId: string,
  rootId: string,
  family: string,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(root)
      WITH root, collect(DISTINCT d) AS below
      UNWIND [root] + below AS t
      SET t.family = $family`,
    params: { tenantId, rootId, family },
  });
}
