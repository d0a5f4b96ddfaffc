import neo4j from 'neo4j-driver';
import type { PlanMember, Task, TaskStatus } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { FINISHED, REMOVED_FROM_PLAN, scopedTasks, type TenantScope } from './engine-scope.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';

/**
 * Settling and cancelling: parents whose steps all ended (or failed fast), a running parent
 * read under its children's locks, cancelling subtrees and runs, and steps orphaned under an
 * ended parent.
 */

/**
 * A running parent `p` that can be settled now: every child ended, or a child failed under
 * FAIL_FAST. Children unlabeled (SUBTASK_OF joins tasks only): a labeled child with a status
 * lets the planner read every FAILED task of the database instead of p's children.
 */
const SETTLEABLE = `NOT EXISTS { (p)<-[:SUBTASK_OF]-(c) WHERE NOT c.status IN ${FINISHED} }
  OR (coalesce(p.failurePolicy, 'FAIL_FAST') = 'FAIL_FAST'
      AND EXISTS { (p)<-[:SUBTASK_OF]-({status: 'FAILED'}) })`;

/**
 * The parent of a task when it can be settled now (read without locks, after the task's end
 * committed: the last sibling to commit always sees the others ended).
 */
export async function settleableParentOf(tx: Tx, taskId: string): Promise<string | null> {
  const [row] = await tx.run<{ id: string }>({
    cypher: `
      MATCH (t:Task {id: $taskId}) USING INDEX SEEK t:Task(id)
      MATCH (t)-[:SUBTASK_OF]->(p {status: 'IN_PROGRESS'})
      WHERE ${SETTLEABLE}
      RETURN p.id AS id`,
    params: { taskId },
  });
  return row?.id ?? null;
}

export interface ParentState {
  parent: Task;
  /** Each `removed` from its plan by approvePlan or not (inPlan). */
  children: (PlanMember & {
    id: string;
    key: string | null;
    title: string;
    status: TaskStatus;
    result: string | null;
  })[];
}

/**
 * Running orchestrated parents that can be settled now: every child ended, or a child failed
 * under FAIL_FAST. A sweep for what the immediate settling after each step did not reach.
 */
export async function settleableParents(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<string[]> {
  const rows = await tx.run<{ id: string }>({
    cypher: `
      ${scopedTasks('p', ['IN_PROGRESS'], tenants)} AND p.orchestrated = true
        AND EXISTS { (p)<-[:SUBTASK_OF]-() } AND (${SETTLEABLE})
      RETURN p.id AS id LIMIT $limit`,
    params: { limit: neo4j.int(limit), tenants },
  });
  return rows.map((r) => r.id);
}

/**
 * A parent by id, with its children's states, if it still runs: under the parent's lock and
 * its children's (taken in id order before their statuses are read), so a step claimed while
 * the parent settles is seen running, and cancelled with its run, never left behind (issue 10).
 */
export async function runningParent(tx: Tx, parentId: string): Promise<ParentState | null> {
  const [row] = await tx.run<{ p: NodeLike; children: ParentState['children'] }>({
    cypher: `
      MATCH (p:Task {id: $parentId}) USING INDEX SEEK p:Task(id)
      ${lockAndBump('p', 'Task')}
      WITH p WHERE p.status = 'IN_PROGRESS'
      MATCH (c:Task)-[:SUBTASK_OF]->(p)
      WITH p, c ORDER BY c.id
      ${lockAndBump('c', 'Task')}
      WITH p, collect(c) AS locked
      UNWIND locked AS c
      RETURN p, collect({id: c.id, key: c.key, title: c.title, status: c.status, result: c.result,
                         removed: ${REMOVED_FROM_PLAN('c')}}) AS children`,
    params: { parentId },
  });
  return row ? { parent: toTask(row.p), children: row.children } : null;
}

/**
 * Cancels these tasks and every unfinished task below them, each under its lock (taken in id
 * order) and only while it is still unfinished, with their RUNNING runs and what they waited
 * for (a CANCELLED task waits for nothing): a step claimed after
 * the parent read its children is cancelled too, and its worker aborts at its next heartbeat.
 * Returns the tasks it changed.
 */
export async function cancelSubtrees(tx: Tx, ids: string[], error: string): Promise<Task[]> {
  if (ids.length === 0) return [];
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (c:Task {id: id})
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(c)
      WITH collect(DISTINCT c) + collect(DISTINCT d) AS all
      UNWIND all AS t
      WITH DISTINCT t ORDER BY t.id
      ${lockAndBump('t', 'Task')}
      WITH t WHERE NOT t.status IN ${FINISHED}
      SET t.status = 'CANCELLED', t.error = $error, t.updatedAt = datetime(),
          t.leaseOwner = null, t.leaseExpiresAt = null, t.nextAttemptAt = null,
          t.waitingReason = null
      WITH t
      OPTIONAL MATCH (t)<-[:OF]-(r:Run {status: 'RUNNING'})
      SET r.status = 'CANCELLED', r.endedAt = datetime(), r.error = $error
      RETURN DISTINCT t`,
    params: { ids, error },
  });
  return rows.map((r) => toTask(r.t));
}

/** Unfinished tasks under a parent, any depth (to cancel them when the parent fails fast). */
export async function openDescendants(tx: Tx, parentId: string): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (p:Task {id: $parentId}) USING INDEX SEEK p:Task(id)
      MATCH (t)-[:SUBTASK_OF*1..]->(p)
      WHERE NOT t.status IN ${FINISHED}
      RETURN DISTINCT t`,
    params: { parentId },
  });
  return rows.map((r) => toTask(r.t));
}

/** Marks RUNNING runs of these tasks CANCELLED (their workers see the task is no longer theirs). */
export async function cancelRuns(tx: Tx, taskIds: string[], reason: string): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $taskIds AS id
      MATCH (:Task {id: id})<-[:OF]-(r:Run {status: 'RUNNING'})
      SET r.status = 'CANCELLED', r.endedAt = datetime(), r.error = $reason`,
    params: { taskIds, reason },
  });
}

export type OrphanedStep = {
  id: string;
  status: TaskStatus;
  parentStatus: TaskStatus;
};

/**
 * Steps waiting to run (PENDING, READY, AWAITING_APPROVAL) under a parent that has ended: they
 * can never run (only a running parent's steps are promoted or claimed), e.g. a plan written
 * after its root was cancelled. The sweep cancels them.
 */
export async function orphanedSteps(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<OrphanedStep[]> {
  return tx.run<OrphanedStep>({
    cypher: `
      ${scopedTasks('t', ['PENDING', 'READY', 'AWAITING_APPROVAL', 'AWAITING_INPUT'], tenants)}
        AND t.orchestrated = true
      MATCH (t)-[:SUBTASK_OF]->(p) WHERE p.status IN ${FINISHED}
      RETURN t.id AS id, t.status AS status, p.status AS parentStatus LIMIT $limit`,
    params: { limit: neo4j.int(limit), tenants },
  });
}
