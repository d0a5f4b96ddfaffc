import type { Task, TaskStatus } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';

/**
 * Locks the task's ancestors, root first (as cancelTask takes them from the top), and returns
 * its root's id (its own when it has no parent). A retry then reads the workflow under these
 * locks: a cancel of the workflow that committed meanwhile is seen, and its root reopened,
 * rather than the step reopened under a root that stays CANCELLED.
 */
export async function lockAncestors(tx: Tx, tenantId: string, id: string): Promise<string> {
  const [root] = await tx.run<{ id: string }>({
    cypher: `
      MATCH path = (t:Task {tenantId: $tenantId, id: $id})-[:SUBTASK_OF*1..]->(a:Task)
      USING INDEX SEEK t:Task(id)
      WITH a ORDER BY length(path) DESC
      ${lockAndBump('a', 'Task')}
      WITH a WHERE NOT EXISTS { (a)-[:SUBTASK_OF]->() }
      RETURN a.id AS id`,
    params: { tenantId, id },
  });
  return root?.id ?? id;
}

export interface Reopen {
  id: string;
  /** It is reopened only if it is still in one of these (checked under its lock). */
  from: readonly TaskStatus[];
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
