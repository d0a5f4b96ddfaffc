import { lockAncestors, reopenTasks, type Reopen } from '../../graph/retry.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { workflowOutline } from '../../graph/workflow.repository.js';
import { QUEUED_STATUSES, type BacklogLimits } from '../domain/backlog.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import { ApprovalDecision, TaskStatus, type Task } from '../domain/task.js';
import { PLAN_WAITS } from '../../graph/agent-work.repository.js';
import { refuseOverQueuedSteps } from './backlog.js';
import { RETRYABLE, retryScope } from './retry-scope.js';

/**
 * Reopens a FAILED or CANCELLED task (locked by the caller) for another go; returns every task
 * it changed, the task itself included. Attempts start again from 0. For work the engine runs:
 * - a step: PENDING again; ancestors that ended FAILED or CANCELLED are IN_PROGRESS again, so
 *   the engine runs the step and settles them anew;
 * - a task with steps (a subtree): the same, and its FAILED and CANCELLED steps, at any depth,
 *   are PENDING again; a root is IN_PROGRESS, its steps then run at once (a root whose plan
 *   nobody approved waits for approval again);
 * - with either, the work its end held back is PENDING again (retry-scope.ts): the steps
 *   SKIPPED because of it or of the ancestors it reopens, and those their fail-fast cancelled.
 * A step removed from its plan (approvePlan) never comes back, nor anything below it.
 * Throws BAD_USER_INPUT naming the status for anything else, for a task under a COMPLETED or
 * SKIPPED parent (a finished workflow is not reopened) and for a removed step or one under it;
 * LIMIT_EXCEEDED, before it writes, when the steps it queues again would take the tenant past
 * TENANT_MAX_QUEUED_STEPS.
 */
export async function reopenForRetry(tx: Tx, task: Task, backlog?: BacklogLimits): Promise<Task[]> {
  if (!RETRYABLE.includes(task.status)) {
    throw new BadInputError(
      `Cannot retry this task: it is ${task.status}, and only a FAILED or CANCELLED task can be retried`,
      { status: task.status },
    );
  }
  const self = (to: TaskStatus): Reopen => ({ id: task.id, from: RETRYABLE, to });
  if (!task.orchestrated) return reopenTasks(tx, task.tenantId, [self(TaskStatus.PENDING)]);

  const rootId = await lockAncestors(tx, task.tenantId, task.id);
  const workflow = await workflowOutline(tx, task.tenantId, rootId);
  // Under the locks it cannot vanish; should it have, the answer is that, not an internal error.
  if (!workflow) throw new NotFoundError('Task', rootId);
  const scope = retryScope(workflow, task.id);
  if (scope.removed) {
    const which =
      scope.removed.id === task.id ? 'it' : `the task "${scope.removed.title}" above it`;
    throw new BadInputError(
      `Cannot retry this task: approvePlan removed ${which} from its plan, and a removed step never runs again`,
      { status: task.status, removedId: scope.removed.id },
    );
  }
  const finished = scope.ancestors.find(
    (a) => a.status === TaskStatus.COMPLETED || a.status === TaskStatus.SKIPPED,
  );
  if (finished) {
    throw new BadInputError(
      `Cannot retry this task: the task "${finished.title}" above it is ${finished.status}, and a finished workflow is not reopened`,
      { status: task.status, ancestorId: finished.id, ancestorStatus: finished.status },
    );
  }
  const isRoot = scope.ancestors.length === 0;
  // A plan nobody approved waits for approval again: a retry is no approval.
  const planWaits =
    isRoot && scope.hasChildren && task.planApproval && task.decision !== ApprovalDecision.APPROVED;
  const reopen: Reopen[] = [
    planWaits
      ? { ...self(TaskStatus.AWAITING_APPROVAL), waitingReason: PLAN_WAITS }
      : self(isRoot && scope.hasChildren ? TaskStatus.IN_PROGRESS : TaskStatus.PENDING),
    ...scope.ancestors
      .filter((a) => RETRYABLE.includes(a.status))
      .map((a) => ({ id: a.id, from: RETRYABLE, to: TaskStatus.IN_PROGRESS })),
    ...scope.back.map((id) => ({
      id,
      from: [...RETRYABLE, TaskStatus.SKIPPED],
      to: TaskStatus.PENDING,
    })),
  ];
  const queued = reopen.filter((r) => QUEUED_STATUSES.includes(r.to)).length;
  await refuseOverQueuedSteps(tx, task.tenantId, backlog, 'retryTask', queued);
  return reopenTasks(tx, task.tenantId, reopen);
}
