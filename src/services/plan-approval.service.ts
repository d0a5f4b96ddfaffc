import { randomUUID } from 'node:crypto';
import * as plans from '../../graph/plan-approval.repository.js';
import { relatedTasks } from '../../graph/task-relations.repository.js';
import { lockTaskEdges } from '../../graph/task-cycles.repository.js';
import * as tasks from '../../graph/task.repository.js';
import { recordDecision } from '../../graph/workflow.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { QUEUED_STATUSES, type BacklogLimits } from '../domain/backlog.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { ApprovalDecision, TaskStatus, type Task } from '../domain/task.js';
import { rejectionReason } from '../domain/validate.js';
import { editPlan, type PlanEdits } from './plan-edits.js';
import { refuseOverQueuedSteps } from './backlog.js';
import { publishTasks } from './task-events.js';
import type { Emit, UnitOfWork } from './unit-of-work.js';
import { stableId } from '../../graph/agent-work.repository.js';
import { sendAgentMessage } from '../agents/messages.js';
import { NAMED } from '../agents/team.js';

/**
 * A person's say on a plan that waits for approval (issue 13). The state machine:
 * - submitTask with planApproval (or a Chief of Staff with reviewPlans): the root is planned as
 *   usual; when the plan is written the root goes IN_PROGRESS -> AWAITING_APPROVAL
 *   (waitingReason "the plan waits for approval") and its steps stay PENDING: no step runs;
 * - approvePlan: edits applied and checked like a model's plan, the decision recorded, the root
 *   IN_PROGRESS; the engine promotes the steps as for any plan;
 * - rejectPlan: the steps CANCELLED and moved off the root, the root READY with the reason as
 *   feedback for the Chief of Staff, who plans again (and that plan waits again).
 */
export class PlanApprovalService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * Approves the waiting plan of `rootId`, with `edits` if given; returns the root.
   * LIMIT_EXCEEDED when the steps the edits add, less the queued ones they remove, would take
   * the tenant's queued steps past TENANT_MAX_QUEUED_STEPS.
   */
  approve(tenantId: string, rootId: string, actor: string, edits?: PlanEdits | null) {
    return this.uow.run(async (tx, emit) => {
      // The edits' dependencies are checked against the steps' edges as read here: no other
      // writer adds one until this commits (graph/task-cycles.repository.ts).
      await lockTaskEdges(tx, tenantId);
      const root = await waitingRoot(tx, tenantId, rootId, 'approvePlan');
      const all = await plans.planSteps(tx, tenantId, rootId);
      const synthesis = all.find((s) => s.key === 'synthesis')!;
      const current = all.filter((s) => s !== synthesis);
      const edited = editPlan(current, edits, root.priority);
      const idOf = new Map(current.map((s) => [s.key, s.id]));
      for (const s of edited.steps) if (!s.id) idOf.set(s.key, randomUUID());
      const row = (s: (typeof edited.steps)[number]) => ({
        id: idOf.get(s.key)!,
        key: s.key,
        title: s.title,
        description: s.description,
        priority: s.priority,
        condition: s.condition,
        capabilities: s.capabilities,
        dependsOn: s.dependsOn.map((k) => idOf.get(k)!),
      });
      const touched = edited.steps.filter((s) => s.changed);
      const queued = new Set(
        current.filter((s) => QUEUED_STATUSES.includes(s.status)).map((s) => s.id),
      );
      const adding =
        touched.filter((s) => !s.id).length - edited.removed.filter((s) => queued.has(s.id)).length;
      await refuseOverQueuedSteps(tx, tenantId, this.backlog, 'approvePlan', adding);
      await plans.writePlanEdits(tx, tenantId, rootId, {
        update: touched.filter((s) => s.id).map(row),
        create: touched.filter((s) => !s.id).map(row),
        remove: edited.removed.map((s) => s.id),
        synthesisId: synthesis.id,
        liveStepIds: edited.steps.map((s) => idOf.get(s.key)!),
        actor,
      });
      await delegateAdded(tx, emit, root, touched.filter((s) => !s.id).map(row));
      const summary = describeEdits(edits);
      await recordDecision(tx, tenantId, rootId, ApprovalDecision.APPROVED, actor, summary);
      const released = await plans.releasePlan(tx, tenantId, rootId);
      const changedIds = [
        ...touched.map((s) => idOf.get(s.key)!),
        ...edited.removed.map((s) => s.id),
        ...(touched.length || edited.removed.length ? [synthesis.id] : []),
      ];
      const changed = await tasks.tasksByIds(tx, tenantId, changedIds);
      await publishTasks(tx, emit, [released, ...changed], 'PLAN_APPROVED');
      const [fresh] = await tasks.tasksByIds(tx, tenantId, [rootId]);
      return fresh!;
    });
  }

  /**
   * Rejects the waiting plan of `rootId`: its steps are CANCELLED and the Chief of Staff plans
   * the task again with `reason` as feedback. Returns the root (READY).
   */
  reject(tenantId: string, rootId: string, actor: string, reasonInput: string): Promise<Task> {
    const reason = rejectionReason(reasonInput, true);
    return this.uow.run(async (tx, emit) => {
      await waitingRoot(tx, tenantId, rootId, 'rejectPlan');
      await recordDecision(tx, tenantId, rootId, ApprovalDecision.REJECTED, actor, reason);
      const cancelled = await plans.cancelPlanSteps(
        tx,
        tenantId,
        rootId,
        `the plan was rejected by ${actor}: ${reason}`,
      );
      // Published while they are still the root's steps: the root's subscribers see them end.
      await publishTasks(tx, emit, cancelled, 'PLAN_REJECTED');
      const root = await plans.replan(tx, tenantId, rootId, reason);
      await publishTasks(tx, emit, [root], 'PLAN_REJECTED');
      return root;
    });
  }
}

/** The root, locked, when its plan waits for approval; else NOT_FOUND or CONFLICT saying why. */
async function waitingRoot(tx: Tx, tenantId: string, rootId: string, action: string) {
  const root = await tasks.lockTask(tx, tenantId, rootId);
  if (!root) throw new NotFoundError('Task', rootId);
  const hasPlan = (await relatedTasks(tx, tenantId, [rootId], 'subtasks')).length > 0;
  if (root.status !== TaskStatus.AWAITING_APPROVAL || !root.needsPlan || !hasPlan) {
    const why =
      root.status === TaskStatus.AWAITING_APPROVAL
        ? 'it waits for approveTask or a budget, not for a plan review'
        : `it is ${root.status}`;
    throw new ConflictError(
      `${action} needs a submitted task whose plan waits for approval (AWAITING_APPROVAL with a plan), but ${why}`,
      { status: root.status },
    );
  }
  return root;
}

/**
 * The steps a person added are delegated like planned ones: a DELEGATION message from the
 * Chief of Staff, in the plan's conversation, to the least busy few operators with each of the
 * step's capabilities (to everyone when none has them; team.ts: delegates).
 */
async function delegateAdded(tx: Tx, emit: Emit, root: Task, added: plans.StepWrite[]) {
  if (added.length === 0) return;
  const capabilities = [...new Set(added.flatMap((s) => s.capabilities))];
  const { chiefId, holders } = await plans.delegationTargets(
    tx,
    root.tenantId,
    root.id,
    capabilities,
    NAMED,
  );
  for (const s of added) {
    const to = [...new Set(s.capabilities.flatMap((c) => holders[c] ?? []))];
    await sendAgentMessage(tx, emit, {
      id: stableId(root.id, 'delegation', s.id),
      tenantId: root.tenantId,
      conversationId: stableId(root.id, 'plan-conversation'),
      conversationTitle: `Plan: ${root.title}`,
      kind: 'DELEGATION',
      content: `${s.title}: ${s.description ?? s.title}`,
      fromAgentId: chiefId,
      toAgentIds: to,
      broadcast: to.length === 0,
      aboutTaskId: s.id,
    });
  }
}

/** The decision's comment: what the person changed, for the task's record and the audit. */
function describeEdits(edits?: PlanEdits | null): string | null {
  const parts = [
    edits?.change?.length ? `changed ${edits.change.map((c) => c.key).join(', ')}` : '',
    edits?.add?.length ? `added ${edits.add.map((a) => a.key).join(', ')}` : '',
    edits?.remove?.length ? `removed ${edits.remove.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : null;
}
