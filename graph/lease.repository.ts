import neo4j from 'neo4j-driver';
import type { Task } from '../src/domain/task.js';
import { LEASE_EXPIRED } from '../src/domain/lease.js';
import type { Tx } from './cypher.js';
import { scopedTasks, type TenantScope } from './engine-scope.js';
import { lockAndBump } from './locks.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';

/** Steps' leases: a worker's heartbeat renews them; the sweep takes back those that ran out. */

/**
 * Extends the leases of a worker's running steps, all in one statement; returns the ids it
 * extended (a step missing is no longer this worker's). Locks in id order, like every writer
 * that locks several tasks.
 */
export async function renewLeases(
  tx: Tx,
  taskIds: string[],
  workerId: string,
  leaseMs: number,
): Promise<Set<string>> {
  const rows = await tx.run<{ id: string }>({
    cypher: `
      UNWIND $taskIds AS id
      MATCH (t:Task {id: id}) USING INDEX SEEK t:Task(id)
      WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = $workerId
      ${lockAndBump('t', 'Task')}
      // Checked again under the lock: a heartbeat that matched just before the step's end
      // committed must not give a lease back to the task (it then "expired" and ran again).
      WITH t WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = $workerId
      SET t.leaseExpiresAt = datetime() + duration({milliseconds: $leaseMs})
      RETURN t.id AS id`,
    params: { taskIds: [...taskIds].sort(), workerId, leaseMs: neo4j.int(leaseMs) },
  });
  return new Set(rows.map((r) => r.id));
}

/** A step whose lease ran out, with what to log it by: its worker, run and agent. */
export interface ExpiredLease {
  task: Task;
  worker: string | null;
  runId: string | null;
  agentId: string | null;
}

/**
 * Tasks whose lease ran out (their worker died, stalled or lost the database): back to READY,
 * or FAILED when out of attempts.
 */
export async function expireLeases(tx: Tx, tenants: TenantScope = null): Promise<ExpiredLease[]> {
  const rows = await tx.run<{
    t: NodeLike;
    worker: string | null;
    runIds: string[];
    agentId: string | null;
  }>({
    cypher: `
      ${scopedTasks('t', ['IN_PROGRESS'], tenants)} AND t.leaseExpiresAt < datetime()
      ${lockAndBump('t', 'Task')}
      WITH t WHERE t.status = 'IN_PROGRESS' AND t.leaseExpiresAt < datetime()
      // Unlabeled, or the planner may start from every RUNNING run (engine-scope.ts): of what
      // points OF at a task, only runs have a status.
      OPTIONAL MATCH (t)<-[:OF]-(r {status: 'RUNNING'})
      SET r.status = 'ABANDONED', r.endedAt = datetime(), r.error = $expired.before + t.leaseOwner + $expired.after
      WITH t, t.leaseOwner AS worker, collect(r.id) AS runIds,
           collect([(r)-[:BY]->(a:Agent) | a.id][0]) AS runAgents
      SET t.status = CASE WHEN t.attempts >= t.maxAttempts THEN 'FAILED' ELSE 'READY' END,
          t.error = $expired.before + worker + $expired.after,
          t.leaseOwner = null, t.leaseExpiresAt = null, t.updatedAt = datetime()
      // The agent the lost attempt ran with (the task's may have been reassigned since).
      RETURN t, worker, runIds,
             coalesce(runAgents[0], [(t)-[:ASSIGNED_TO]->(a:Agent) | a.id][0]) AS agentId`,
    params: { tenants, expired: LEASE_EXPIRED },
  });
  return rows.map((r) => ({
    task: toTask(r.t),
    worker: r.worker,
    runId: r.runIds[0] ?? null,
    agentId: r.agentId,
  }));
}
