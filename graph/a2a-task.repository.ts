import type { Tx } from './cypher.js';

/**
 * Tasks that outside agents sent over A2A (issue 16): (:A2ATask {id, tenantId, contextId, json})
 * -[:FOR]->(:Task), the A2A task as the protocol last saw it (JSON), beside the platform's
 * own task whose workflow it follows. The A2A id is the SDK's; the task is the platform's.
 */
export interface A2ATaskRow {
  id: string;
  tenantId: string;
  contextId: string;
  /** The platform's root task, once submitted. */
  taskId: string | null;
  json: string;
}

export async function saveA2ATask(tx: Tx, row: A2ATaskRow): Promise<void> {
  await tx.run({
    cypher: `MERGE (a:A2ATask {id: $id})
      ON CREATE SET a.tenantId = $tenantId, a.createdAt = datetime()
      WITH a WHERE a.tenantId = $tenantId
      SET a.contextId = $contextId, a.json = $json, a.updatedAt = datetime(),
          a.taskId = coalesce($taskId, a.taskId)
      WITH a WHERE a.taskId IS NOT NULL
      OPTIONAL MATCH (t:Task {tenantId: $tenantId, id: a.taskId}) USING INDEX SEEK t:Task(id)
      FOREACH (_ IN CASE WHEN t IS NULL THEN [] ELSE [1] END | MERGE (a)-[:FOR]->(t))`,
    params: { ...row },
  });
}

/** The tenant's A2A task; another tenant's is absent, as an unknown one is. */
export async function loadA2ATask(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<A2ATaskRow | null> {
  const [row] = await tx.run<{ row: A2ATaskRow }>({
    cypher: `MATCH (a:A2ATask {id: $id}) USING INDEX SEEK a:A2ATask(id) WHERE a.tenantId = $tenantId
      RETURN a {.id, .tenantId, .contextId, .json, taskId: coalesce(a.taskId, null)} AS row`,
    params: { tenantId, id },
  });
  return row?.row ?? null;
}
