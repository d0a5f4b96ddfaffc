import type { Task, TaskStatus } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';

/** What retrying a task would reopen (src/services/task-retry.ts decides with it). */
export type RetryScope = {
  /** Its ancestors, nearest first. */
  ancestors: { id: string; title: string; status: TaskStatus }[];
  /** Whether it has steps of its own. */
  hasChildren: boolean;
  /**
   * Below it: every FAILED or CANCELLED step, and every SKIPPED one that was skipped because
   * of them (it depends on one, directly or through other skipped steps; a rejected approval
   * stays skipped). Steps the engine runs only: a person's own task there stays as it is.
   */
  below: string[];
};

/**
 * Read under the locks of the task's ancestors (taken root first, as cancelTask takes them from
 * the top): a cancel of the workflow that committed meanwhile is seen, and its root reopened,
 * rather than the step reopened under a root that stays CANCELLED.
 */
export async function retryScope(tx: Tx, tenantId: string, id: string): Promise<RetryScope> {
  await tx.run({
    cypher: `
      MATCH path = (t:Task {tenantId: $tenantId, id: $id})-[:SUBTASK_OF*1..]->(a:Task)
      USING INDEX SEEK t:Task(id)
      WITH a ORDER BY length(path) DESC
      ${lockAndBump('a', 'Task')}`,
    params: { tenantId, id },
  });
  const [row] = await tx.run<RetryScope>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK t:Task(id)
      OPTIONAL MATCH path = (t)-[:SUBTASK_OF*1..]->(a:Task)
      WITH t, a, length(path) AS depth ORDER BY depth
      WITH t, [x IN collect(CASE WHEN a IS NULL THEN null
                                 ELSE {id: a.id, title: a.title, status: a.status} END)
               WHERE x IS NOT NULL] AS ancestors
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(t)
      WHERE d.status IN ['FAILED', 'CANCELLED'] AND d.orchestrated = true
      WITH t, ancestors, collect(DISTINCT d) AS broken
      OPTIONAL MATCH (s:Task {status: 'SKIPPED'})-[:SUBTASK_OF*1..]->(t)
      WHERE s.orchestrated = true AND coalesce(s.decision, '') <> 'REJECTED'
        AND EXISTS { (s)-[:DEPENDS_ON*1..]->(x:Task) WHERE x IN broken }
      WITH t, ancestors, broken, collect(DISTINCT s) AS skipped
      RETURN ancestors, EXISTS { (t)<-[:SUBTASK_OF]-() } AS hasChildren,
             [x IN broken + skipped | x.id] AS below`,
    params: { tenantId, id },
  });
  return row ?? { ancestors: [], hasChildren: false, below: [] };
}

export interface Reopen {
  id: string;
  /** It is reopened only if it is still in one of these (checked under its lock). */
  from: TaskStatus[];
  to: TaskStatus;
  /** Why it waits in `to`, if it does (a plan that waits for approval); else none. */
  waitingReason?: string | null;
}

/**
 * Reopens tasks for another go, each under its lock (taken in id order) and only if it is
 * still in `from`: the new status, attempts back to 0, error, lease and backoff cleared, the
 * waiting reason given or none. Returns the tasks it changed.
 */
export async function reopenTasks(tx: Tx, tenantId: string, reopen: Reopen[]): Promise<Task[]> {
  if (reopen.length === 0) return [];
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      UNWIND $reopen AS r
      MATCH (t:Task {tenantId: $tenantId, id: r.id}) USING INDEX SEEK t:Task(id)
      ${lockAndBump('t', 'Task')}
      WITH t, r WHERE t.status IN r.from
      SET t.status = r.to, t.attempts = 0, t.error = null, t.nextAttemptAt = null,
          t.leaseOwner = null, t.leaseExpiresAt = null, t.waitingReason = r.waitingReason,
          t.updatedAt = datetime()
      RETURN t`,
    params: {
      tenantId,
      reopen: reopen
        .map((r) => ({ waitingReason: null, ...r }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    },
  });
  return rows.map((r) => toTask(r.t));
}
