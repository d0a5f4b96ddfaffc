import type { Tx } from '../../graph/cypher.js';
import { engineStateProblem } from '../../graph/engine-state.repository.js';
import {
  dependenciesOutside,
  runningRootIds,
  workflowOutline,
  type WorkflowOutline,
} from '../../graph/workflow.repository.js';
import { selfWaitingDependency } from '../domain/cycles.js';
import { BadInputError } from '../domain/errors.js';
import { isFinished, TaskStatus, type Task } from '../domain/task.js';

/** What to do instead, by the mutation that would have left the workflow unrunnable. */
const INSTEAD = {
  createTask:
    "the engine runs a workflow's steps from its plan: create the task without parentId, or add it to the plan before startWorkflow",
  setTaskStatus:
    "the engine moves a workflow's steps: cancelTask, retryTask, approveTask and rejectTask change them by hand",
  retryTask: 'finish (or cancel) the tasks of your own under the workflow first',
  addTaskDependency: 'a step of a running workflow takes new dependencies only while it is PENDING',
} as const;

/**
 * Refuses (BAD_USER_INPUT, the write rolled back) a change by hand to the tasks `ids` that would
 * leave a workflow the engine cannot run: a step READY before its dependencies ended, running
 * without a lease, or a parent waiting for a task the engine never runs. The rules are the
 * engine's own, which an import is held to too (graph/engine-state.repository.ts). The message
 * names the task, the rule and what to do instead.
 */
export async function refuseUnrunnable(
  tx: Tx,
  tenantId: string,
  operation: keyof typeof INSTEAD,
  ids: string[],
): Promise<void> {
  const found = await engineStateProblem(tx, tenantId, ids);
  if (!found) return;
  throw new BadInputError(
    `${operation} would leave a workflow the engine cannot run: Task "${found.id}" ${found.problem}; ${INSTEAD[operation]}`,
    { id: found.id },
  );
}

/**
 * Refuses a new dependency of an engine's step that is past PENDING: the engine waits for a
 * step's dependencies only before it is READY, so one added later (to a step waiting for
 * approval, running or ended) would never be waited for.
 */
export function refuseNewDependency(step: Task): void {
  if (step.status === TaskStatus.PENDING) return;
  throw new BadInputError(
    `addTaskDependency would leave a workflow the engine cannot run: Task "${step.id}" is ${step.status}, past waiting for its dependencies; ${INSTEAD.addTaskDependency}`,
    { id: step.id, status: step.status },
  );
}

/** What to do about a dependency that makes its workflow wait for itself. */
const SELF_WAITING = {
  startWorkflow: 'removeTaskDependency(id, dependsOnId) takes it away',
  addTaskDependency: 'the dependency was not added',
  importOrganisation:
    'leave the DEPENDS_ON out of the document, or import the workflow not orchestrated',
} as const;

/**
 * Refuses (BAD_USER_INPUT, the write rolled back) a workflow with a dependency the engine could
 * never let run: on a task above or below the step in its tree, or through others on one.
 */
export async function refuseSelfWaiting(
  tx: Tx,
  tenantId: string,
  operation: keyof typeof SELF_WAITING,
  rootId: string,
): Promise<void> {
  const outline = await workflowOutline(tx, tenantId, rootId);
  if (outline) await refuseSelfWaitingIn(tx, tenantId, outline, operation);
}

/** How many other workflows a check follows dependencies into. */
const MAX_WORKFLOWS = 20;

/**
 * The workflow and the running workflows its steps depend on, theirs in turn (up to
 * MAX_WORKFLOWS), with the dependencies between them: a wait can close through another one. A
 * workflow nobody started is left out (a person may still end its tasks by hand), as is one
 * that ended. Each workflow's dependencies are read apart: two reached at once may depend on
 * each other.
 */
async function withWorkflowsWaitedFor(
  tx: Tx,
  tenantId: string,
  outline: WorkflowOutline,
): Promise<WorkflowOutline> {
  const tasks = [...outline.tasks];
  const edges = [...outline.edges];
  const inside = new Set(tasks.map((t) => t.id));
  const toRead = [outline.tasks.map((t) => t.id)];
  for (let added = 0, ids = toRead.shift(); ids; ids = toRead.shift()) {
    for (const d of await dependenciesOutside(tx, tenantId, ids)) {
      if (!inside.has(d.to) && !d.running) continue;
      edges.push({ from: d.from, to: d.to, type: 'DEPENDS_ON' });
      if (inside.has(d.rootId) || added >= MAX_WORKFLOWS) continue;
      const other = await workflowOutline(tx, tenantId, d.rootId);
      if (!other) continue;
      added++;
      tasks.push(...other.tasks);
      edges.push(...other.edges);
      for (const t of other.tasks) inside.add(t.id);
      toRead.push(other.tasks.map((t) => t.id));
    }
  }
  return { tasks, edges };
}

/**
 * refuseSelfWaiting for the workflows the engine runs that hold any of `ids` (an import's
 * tasks): `idOf` gives the id the caller knows a task by (the document's, for an import).
 */
export async function refuseSelfWaitingAmong(
  tx: Tx,
  tenantId: string,
  operation: keyof typeof SELF_WAITING,
  ids: string[],
  idOf?: (id: string) => string,
): Promise<void> {
  for (const rootId of await runningRootIds(tx, tenantId, ids)) {
    const outline = await workflowOutline(tx, tenantId, rootId);
    if (outline) await refuseSelfWaitingIn(tx, tenantId, outline, operation, idOf);
  }
}

/** The statuses a step may have when its workflow starts: the engine moves it from there. */
const STARTABLE: readonly TaskStatus[] = [TaskStatus.PENDING, TaskStatus.AWAITING_APPROVAL];

/**
 * Refuses starting a workflow that the engine could not run: a step set READY, IN_PROGRESS or
 * AWAITING_INPUT by hand before (it would run before its dependencies ended, or wait for good
 * with no lease), or a step that waits for itself (refuseSelfWaiting). Returns the outline read.
 */
export async function refuseUnstartable(
  tx: Tx,
  tenantId: string,
  rootId: string,
): Promise<WorkflowOutline | null> {
  const outline = await workflowOutline(tx, tenantId, rootId);
  if (!outline) return null;
  const step = outline.tasks.find(
    (t) => t.id !== rootId && !isFinished(t.status) && !STARTABLE.includes(t.status),
  );
  if (step) {
    throw new BadInputError(
      `startWorkflow needs a workflow's steps PENDING (or ended, or AWAITING_APPROVAL), but Task "${step.id}" is ${step.status}: the engine moves them from PENDING; set it back to PENDING (or end it) first`,
      { id: step.id, status: step.status },
    );
  }
  await refuseSelfWaitingIn(tx, tenantId, outline, 'startWorkflow');
  return outline;
}

async function refuseSelfWaitingIn(
  tx: Tx,
  tenantId: string,
  own: WorkflowOutline,
  operation: keyof typeof SELF_WAITING,
  idOf = (id: string) => id,
) {
  const outline = await withWorkflowsWaitedFor(tx, tenantId, own);
  const tasks = new Map(
    outline.tasks.map((t) => [
      t.id,
      { id: t.id, parentId: null as string | null, dependsOn: [] as string[] },
    ]),
  );
  for (const e of outline.edges) {
    const from = tasks.get(e.from)!;
    if (e.type === 'SUBTASK_OF') from.parentId = e.to;
    else from.dependsOn.push(e.to);
  }
  const found = selfWaitingDependency([...tasks.values()]);
  if (!found) return;
  throw new BadInputError(
    `${operation} would leave a workflow the engine cannot run: Task "${idOf(found.from)}" depends on Task "${idOf(found.to)}", which cannot end before it starts (a step starts after its parent starts, and a parent ends after its steps end); ${SELF_WAITING[operation]}`,
    { id: idOf(found.from), dependsOnId: idOf(found.to) },
  );
}
