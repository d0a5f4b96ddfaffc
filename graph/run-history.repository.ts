import type { Tx } from './cypher.js';
import { iso } from './mappers.js';
import type { NodeLike } from './page.js';

/** Runs as the API reads them: a task's attempts, for its `runs` field. */

export interface RunRecord {
  id: string;
  taskId: string;
  status: string;
  attempt: number;
  worker: string | null;
  error: string | null;
  latencyMs: number | null;
  agentId: string | null;
  startedAt: string;
  endedAt: string | null;
  traceId: string | null;
}

/** For loaders: the runs of each task, oldest first. */
export async function runsByTaskIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<RunRecord[]> {
  const rows = await tx.run<{ taskId: string; r: NodeLike; agentId: string | null }>({
    cypher: `
      UNWIND $ids AS taskId
      MATCH (owner:Task {tenantId: $tenantId, id: taskId})<-[:OF]-(r:Run) USING INDEX SEEK owner:Task(id)
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      RETURN taskId, r, a.id AS agentId ORDER BY r.startedAt, r.id`,
    params: { tenantId, ids },
  });
  return rows.map(({ taskId, r, agentId }) => {
    const p = r.properties;
    return {
      id: String(p.id),
      taskId,
      status: String(p.status),
      attempt: Number(p.attempt ?? 0),
      worker: p.worker ? String(p.worker) : null,
      error: p.error ? String(p.error) : null,
      latencyMs: typeof p.latencyMs === 'number' ? p.latencyMs : null,
      agentId,
      startedAt: iso(p.startedAt),
      endedAt: p.endedAt ? iso(p.endedAt) : null,
      traceId: p.traceId ? String(p.traceId) : null,
    };
  });
}
