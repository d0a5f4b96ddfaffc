import { currentTraceparent } from '../tracing/tracer.js';
import { changeStatuses } from '../../graph/promotion.repository.js';
import { isBudgetWait, requeueBudgetWaits } from '../../graph/budget.repository.js';
import { PLAN_WAITS } from '../../graph/agent-work.repository.js';
import { dependencyOrder } from '../domain/cycles.js';
import {
  handToChief,
  markOrchestrated,
  recordDecision,
  workflowOf,
} from '../../graph/workflow.repository.js';
import { relatedTasks } from '../../graph/task-relations.repository.js';
import * as tasks from '../../graph/task.repository.js';
import { randomUUID } from 'node:crypto';
import * as agents from '../../graph/agent.repository.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import {
  ApprovalDecision,
  FailurePolicy,
  SKIPPED_BECAUSE,
  TaskPriority,
  TaskStatus,
  type Task,
} from '../domain/task.js';
import { LIMITS, optionalText, rejectionReason, requiredName } from '../domain/validate.js';
import { givenFamily } from '../domain/family.js';
import { setWorkflowFamily } from '../../graph/family.repository.js';
import { publishTasks } from './task-events.js';
import type { UnitOfWork } from './unit-of-work.js';
import { refuseUnstartable } from './workflow-guard.js';
import { refuseOverQueuedSteps } from './backlog.js';
import type { BacklogLimits } from '../domain/backlog.js';

export interface SubmitTaskData {
  title: string;
  description?: string | null;
  priority?: TaskPriority | null;
  chiefOfStaffId?: string | null;
  /** What kind of task (issue 12); default: derived from the title. */
  family?: string | null;
  /** The plan waits for approvePlan (issue 13); null: the Chief of Staff's reviewPlans. */
  planApproval?: boolean | null;
}

/** What people do to workflows: submit or start them, approve or reject steps, look at them. */
export class WorkflowService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * Hands a task to a Chief of Staff: it is created orchestrated and assigned to the Chief of
   * Staff (the one named, or the active one with the fewest unfinished tasks), whose first run
   * plans it. LIMIT_EXCEEDED when the tenant has TENANT_MAX_QUEUED_STEPS steps queued.
   */
  submit(tenantId: string, actor: string, input: SubmitTaskData): Promise<Task> {
    const title = requiredName('title', input.title, LIMITS.title);
    const description = optionalText('description', input.description, LIMITS.description) ?? null;
    const family = givenFamily(input.family);
    return this.uow.run(async (tx, emit) => {
      await refuseOverQueuedSteps(tx, tenantId, this.backlog, 'submitTask', 1);
      const found = await agents.activeChiefOfStaff(tx, tenantId, input.chiefOfStaffId ?? null);
      if (!found) {
        if (input.chiefOfStaffId != null)
          throw new NotFoundError('Active Chief of Staff', input.chiefOfStaffId);
        throw new ConflictError(
          'No active CHIEF_OF_STAFF agent to plan the task: create or activate one first',
        );
      }
      const { chief, unfinished } = found;
      const id = randomUUID();
      await tasks.createTasks(tx, tenantId, [
        {
          id,
          key: null,
          title,
          description,
          priority: input.priority ?? TaskPriority.MEDIUM,
          createdBy: actor,
          parentId: null,
          dependsOn: [],
          capabilities: [],
          delegatedById: null,
          maxAttempts: 3,
          condition: null,
          requiresApproval: false,
          failurePolicy: FailurePolicy.FAIL_FAST,
          family,
        },
      ]);
      const reason =
        input.chiefOfStaffId != null
          ? `the Chief of Staff ${chief.name} plans it`
          : `the Chief of Staff ${chief.name} plans it: the least loaded, with ${unfinished} unfinished tasks`;
      const handed = await handToChief(tx, tenantId, id, {
        chiefId: chief.id,
        reason,
        traceparent: currentTraceparent(),
        holdPlan: input.planApproval ?? chief.reviewPlans ?? false,
      });
      // The chief was read in this transaction; gone since, its delete wins the race.
      if (!handed) throw new NotFoundError('Active Chief of Staff', chief.id);
      await publishTasks(tx, emit, [handed], 'SUBMITTED');
      return handed;
    });
  }

  /**
   * Hands a PENDING task and everything below it to the orchestration engine; a `family` given
   * here becomes the family of the task and of every task below it. LIMIT_EXCEEDED when its
   * PENDING tasks would take the tenant's queued steps past TENANT_MAX_QUEUED_STEPS.
   */
  start(tenantId: string, rootId: string, familyInput?: string | null): Promise<Task> {
    const family = givenFamily(familyInput);
    return this.uow.run(async (tx, emit) => {
      const root = await tasks.lockTask(tx, tenantId, rootId);
      if (!root) throw new NotFoundError('Task', rootId);
      if (root.status !== TaskStatus.PENDING) {
        throw new BadInputError(
          `Only a PENDING task can be started, but this one is ${root.status}`,
          {
            status: root.status,
          },
        );
      }
      if (await tasks.parentOf(tx, tenantId, rootId)) {
        throw new BadInputError('Start the workflow from its root task, not from one of its steps');
      }
      // A second start published a second WORKFLOW_STARTED: the engine has it (it moves a
      // started root from PENDING on its own), so there is nothing to start.
      if (root.orchestrated) {
        const at = root.orchestratedAt ? `, at ${root.orchestratedAt}` : '';
        throw new ConflictError(
          `Task ${rootId} was started already${at} (startWorkflow or submitTask): the engine moves it from PENDING; follow it with taskUpdated(rootId: "${rootId}")`,
          { orchestratedAt: root.orchestratedAt ?? null },
        );
      }
      const outline = await refuseUnstartable(tx, tenantId, rootId);
      // The tasks that join the queue: the root and its steps waiting to run (not ended ones).
      const queued = outline?.tasks.filter((t) => t.status === TaskStatus.PENDING).length ?? 1;
      await refuseOverQueuedSteps(tx, tenantId, this.backlog, 'startWorkflow', queued);
      await markOrchestrated(tx, tenantId, rootId, currentTraceparent());
      if (family) await setWorkflowFamily(tx, tenantId, rootId, family);
      const [started] = await tasks.tasksByIds(tx, tenantId, [rootId]);
      await publishTasks(tx, emit, [started!], 'WORKFLOW_STARTED');
      return started!;
    });
  }

  /** Approves a step waiting for approval: it becomes READY (a parent: IN_PROGRESS). */
  approve(tenantId: string, id: string, actor: string, comment?: string | null): Promise<Task> {
    const note = optionalText('comment', comment, LIMITS.description) ?? null;
    return this.decide(tenantId, id, actor, ApprovalDecision.APPROVED, note);
  }

  /** Rejects a step waiting for approval: it is SKIPPED, and its dependants follow the skip rule. */
  reject(tenantId: string, id: string, actor: string, reason?: string | null): Promise<Task> {
    // The rule of every rejection's reason (rejectPlan's, resolveToolCall's): optional here.
    const why = rejectionReason(reason, false);
    return this.decide(tenantId, id, actor, ApprovalDecision.REJECTED, why);
  }

  private decide(
    tenantId: string,
    id: string,
    actor: string,
    decision: ApprovalDecision,
    comment: string | null,
  ): Promise<Task> {
    return this.uow.run(async (tx, emit) => {
      const task = await tasks.lockTask(tx, tenantId, id);
      if (!task) throw new NotFoundError('Task', id);
      if (task.status !== TaskStatus.AWAITING_APPROVAL) {
        throw new ConflictError(
          `Only a task AWAITING_APPROVAL can be approved or rejected, but this one is ${task.status}`,
          { status: task.status },
        );
      }
      // A plan is decided as a plan: approving it here skipped approvePlan's checks and event,
      // and skipping its root ended the task for good (SKIPPED is not retried).
      if (task.waitingReason === PLAN_WAITS) {
        throw new BadInputError(
          "This task's plan waits for approval: approvePlan(taskId, edits) runs it, rejectPlan(taskId, reason) has it planned again, and cancelTask ends the task (approveTask and rejectTask decide a step)",
          { status: task.status },
        );
      }
      await recordDecision(tx, tenantId, id, decision, actor, comment);
      // A spent budget's wait tried again: the refused attempt is given back, as setBudget does.
      if (decision === ApprovalDecision.APPROVED && isBudgetWait(task)) {
        const [requeued] = await requeueBudgetWaits(tx, tenantId, id);
        await publishTasks(tx, emit, [requeued!], decision);
        return requeued!;
      }
      const hasChildren = (await relatedTasks(tx, tenantId, [id], 'subtasks')).length > 0;
      const to =
        decision === ApprovalDecision.REJECTED
          ? TaskStatus.SKIPPED
          : hasChildren
            ? TaskStatus.IN_PROGRESS
            : TaskStatus.READY;
      const error =
        decision === ApprovalDecision.REJECTED
          ? `${SKIPPED_BECAUSE.rejected}${actor}${comment ? `: ${comment}` : ''}`
          : null;
      const [changed] = await changeStatuses(tx, [
        { id, from: TaskStatus.AWAITING_APPROVAL, to, error },
      ]);
      await publishTasks(tx, emit, [changed!], decision);
      return changed!;
    });
  }

  /**
   * The task and everything below it, with edges, for a client to draw; the tasks in plan
   * order (a parent before its subtasks, a dependency before its dependants, else the oldest
   * first, then by key and id), the same on every read.
   */
  async workflow(tenantId: string, rootId: string) {
    const found = await this.uow.read((tx) => workflowOf(tx, tenantId, rootId));
    if (!found) throw new NotFoundError('Task', rootId);
    const byId = new Map(found.tasks.map((t) => [t.id, t]));
    const dependsOn = new Map(found.tasks.map((t) => [t.id, [] as string[]]));
    for (const e of found.edges) dependsOn.get(e.from)?.push(e.to);
    const order = dependencyOrder(dependsOn, (a, b) => {
      const [x, y] = [byId.get(a)!, byId.get(b)!];
      return (
        x.createdAt.localeCompare(y.createdAt) ||
        (x.key ?? '').localeCompare(y.key ?? '') ||
        x.id.localeCompare(y.id)
      );
    });
    const tasks = order.map((id) => byId.get(id)!);
    return { root: byId.get(rootId)!, tasks, edges: found.edges };
  }
}
