import type { PlanMember, Task } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { FINISHED, REMOVED_FROM_PLAN } from './engine-scope.js';
import { readTask, taskReader, toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { projection } from './projections.js';

/**
 * Workflows: handing a task tree to the engine, marking a task to be planned, recording a
 * person's decision, and reading a workflow to draw or to retry.
 */

/**
 * Marks the task and every task below it as run by the engine. Returns how many. The root keeps
 * the trace context of the request that started it (`traceparent`, null when tracing is off):
 * each step's span continues that trace, in whichever process runs it (issue 17).
 */
export async function markOrchestrated(
  tx: Tx,
  tenantId: string,
  rootId: string,
  traceparent: string | null = null,
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
      SET root.traceparent = $traceparent, root.orchestratedAt = datetime()
      WITH root
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(root)
      WITH root, collect(DISTINCT d) AS below
      UNWIND [root] + below AS t
      SET t.orchestrated = true, t.updatedAt = datetime()
      RETURN count(t) AS n`,
    params: { tenantId, rootId, traceparent },
  });
  return row?.n ?? 0;
}

/**
 * A task just submitted, handed to its Chief of Staff in one statement: assigned to it with
 * `reason`, run by the engine under the request's trace, planned before anything else runs,
 * its plan held for a person when `holdPlan`. Returns the task as it now is. A new task has no
 * assignee and no steps yet, so nothing is replaced or walked (assign and markOrchestrated
 * do both, and with the marks to plan it and a re-read they were five statements a submitTask).
 */
export async function handToChief(
  tx: Tx,
  tenantId: string,
  id: string,
  to: { chiefId: string; reason: string; traceparent: string | null; holdPlan: boolean },
): Promise<Task | null> {
  const [row] = await tx.run<{ n: unknown }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $id}), (a:Agent {tenantId: $tenantId, id: $chiefId})
      USING INDEX SEEK t:Task(id) USING INDEX SEEK a:Agent(id)
      CREATE (t)-[:ASSIGNED_TO {score: 1, reason: $reason, at: datetime()}]->(a)
      SET t.traceparent = $traceparent, t.orchestrated = true, t.orchestratedAt = datetime(),
          t.needsPlan = true, t.planApproval = CASE WHEN $holdPlan THEN true END,
          t.updatedAt = datetime()
      RETURN ${projection('Task').of('t')} AS n`,
    params: { tenantId, id, ...to },
  });
  return row ? readTask(row.n) : null;
}

/** Records a person's approval decision on the task. */
export async function recordDecision(
  tx: Tx,
  tenantId: string,
  taskId: string,
  decision: string,
  actor: string,
  comment: string | null,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId}) USING INDEX SEEK t:Task(id)
      SET t.decision = $decision, t.decidedBy = $actor, t.decisionComment = $comment,
          t.decidedAt = datetime()`,
    params: { tenantId, taskId, decision, actor, comment },
  });
}

/** An edge of a workflow: `from` SUBTASK_OF or DEPENDS_ON `to`, both in the workflow. */
export interface WorkflowEdge {
  from: string;
  to: string;
  type: string;
}

/** Binds `tasks` (the root `$rootId` and every task below it) and `edges` among them. */
const WORKFLOW = `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(root)
      WITH root, collect(DISTINCT d) AS below
      WITH [root] + below AS tasks
      UNWIND tasks AS t
      OPTIONAL MATCH (t)-[e:SUBTASK_OF|DEPENDS_ON]->(o:Task)
      WHERE o IN tasks
      WITH tasks, collect(CASE WHEN e IS NULL THEN null
                               ELSE {from: t.id, to: o.id, type: type(e)} END) AS edges`;

/** A task and everything below it, with the edges between them: the workflow to draw. */
export async function workflowOf(
  tx: Tx,
  tenantId: string,
  rootId: string,
): Promise<{ tasks: Task[]; edges: WorkflowEdge[] } | null> {
  const [row] = await tx.run<{ tasks: NodeLike[]; edges: WorkflowEdge[] }>({
    cypher: `${WORKFLOW}
      RETURN tasks, edges`,
    params: { tenantId, rootId },
  });
  return row ? { tasks: row.tasks.map(toTask), edges: row.edges } : null;
}

/** The id of the task's root: its topmost ancestor, or its own id without a parent. */
export async function rootIdOf(tx: Tx, tenantId: string, id: string): Promise<string> {
  const [row] = await tx.run<{ id: string }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $id})-[:SUBTASK_OF*1..]->(r:Task)
      USING INDEX SEEK t:Task(id)
      WHERE NOT EXISTS { (r)-[:SUBTASK_OF]->() }
      RETURN r.id AS id LIMIT 1`,
    params: { tenantId, id },
  });
  return row?.id ?? id;
}

/**
 * The roots of the workflows the engine runs that hold any of `ids` (a task without a parent
 * is its own root), unfinished ones only, in id order.
 */
export async function runningRootIds(tx: Tx, tenantId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await tx.run<{ id: string }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id)
      OPTIONAL MATCH (t)-[:SUBTASK_OF*1..]->(r:Task) WHERE NOT EXISTS { (r)-[:SUBTASK_OF]->() }
      WITH DISTINCT coalesce(r, t) AS root
      WHERE root.orchestrated = true AND NOT root.status IN ${FINISHED}
      RETURN root.id AS id ORDER BY id`,
    params: { tenantId, ids },
  });
  return rows.map((r) => r.id);
}

/** What a retry decides by of each task (src/services/retry-scope.ts). */
const OUTLINE_FIELDS = ['id', 'title', 'status', 'error', 'orchestrated'] as const;
/** And whether approvePlan removed it from its plan (inPlan): a retry never reopens it. */
export type OutlineTask = Pick<Task, (typeof OUTLINE_FIELDS)[number]> & PlanMember;

/**
 * A workflow's outline: each task's id, title, status, error, whether the engine runs it and
 * whether it was removed from its plan.
 */
export interface WorkflowOutline {
  tasks: OutlineTask[];
  edges: WorkflowEdge[];
}

/**
 * workflowOf with only what a retry decides by: read under the ancestors' locks, it leaves out
 * the results (up to 100,000 characters each), descriptions and times of every task.
 */
export async function workflowOutline(
  tx: Tx,
  tenantId: string,
  rootId: string,
): Promise<WorkflowOutline | null> {
  const outline = projection('Task', OUTLINE_FIELDS);
  const [row] = await tx.run<{ tasks: [unknown, boolean][]; edges: WorkflowEdge[] }>({
    cypher: `${WORKFLOW}
      RETURN [t IN tasks | [${outline.of('t')}, ${REMOVED_FROM_PLAN('t')}]] AS tasks, edges`,
    params: { tenantId, rootId },
  });
  if (!row) return null;
  const read = taskReader(OUTLINE_FIELDS);
  return { tasks: row.tasks.map(([t, removed]) => ({ ...read(t), removed })), edges: row.edges };
}

/** A dependency of a task of `taskIds` on a task outside them, and the root of that task. */
export type OutsideDependency = {
  from: string;
  to: string;
  rootId: string;
  /**
   * The root was handed to the engine (startWorkflow) and has not ended: it will wait for its
   * steps. One that ended (a cancelled workflow) waits for nothing.
   */
  running: boolean;
};

/** The dependencies of these tasks on tasks outside them, each with its task's root. */
export async function dependenciesOutside(
  tx: Tx,
  tenantId: string,
  taskIds: string[],
): Promise<OutsideDependency[]> {
  return tx.run<OutsideDependency>({
    cypher: `
      UNWIND $taskIds AS id
      MATCH (t:Task {id: id})-[:DEPENDS_ON]->(o:Task) USING INDEX SEEK t:Task(id)
      WHERE t.tenantId = $tenantId AND NOT o.id IN $taskIds
      WITH t, o, coalesce([(o)-[:SUBTASK_OF*1..]->(r) WHERE NOT (r)-[:SUBTASK_OF]->() | r][0], o)
           AS root
      RETURN t.id AS from, o.id AS to, root.id AS rootId,
             coalesce(root.orchestrated, false) AND NOT root.status IN ${FINISHED} AS running`,
    params: { tenantId, taskIds },
  });
}
