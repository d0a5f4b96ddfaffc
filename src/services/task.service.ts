import { randomUUID } from 'node:crypto';
import * as agentRepo from '../../graph/agent.repository.js';
import type { Tx } from '../../graph/cypher.js';
import * as repo from '../../graph/task.repository.js';
import { unknownIds } from '../../graph/ids.repository.js';
import { cancelRuns } from '../../graph/settlement.repository.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import { givenFamily } from '../domain/family.js';
import { pageRequest, type PageInput, type Page, type Sort } from '../domain/page.js';
import {
  assertTaskTransition,
  isFinished,
  TaskPriority,
  TaskStatus,
  type Task,
} from '../domain/task.js';
import {
  atPosition,
  distinctNames,
  LIMITS,
  listOfAtMost,
  optionalText,
  requiredName,
  requiredText,
} from '../domain/validate.js';
import {
  assertConditionKeepsKeys,
  assertConditionKeys,
  stepOptions,
  type StepOptions,
  type StepOptionsInput,
} from './step-options.js';
import { setConsensusSpecs } from '../../graph/consensus.repository.js';
import { publishTasks } from './task-events.js';
import { reopenForRetry } from './task-retry.js';
import type { BacklogLimits } from '../domain/backlog.js';
import { auditScope } from '../audit-scope.js';
import { evaluateRootTask } from '../evolution/evaluate/record.js';
import type { UnitOfWork } from './unit-of-work.js';
import {
  assertAcyclic,
  assertNoParentCycle,
  dependencies,
  keyResolver,
  parentOf,
} from './batch-shape.js';
import { refuseNewDependency, refuseSelfWaiting, refuseUnrunnable } from './workflow-guard.js';
import { rootIdOf } from '../../graph/workflow.repository.js';
import { relatedTasks } from '../../graph/task-relations.repository.js';
import { edgeClosingCycle, lockTaskEdges } from '../../graph/task-cycles.repository.js';

export interface CreateTaskData {
  /** A name for this task within a batch, so other tasks of the batch can refer to it. */
  key?: string | null;
  title: string;
  description?: string | null;
  priority?: TaskPriority | null;
  parentId?: string | null;
  parentKey?: string | null;
  dependsOn?: string[] | null;
  dependsOnKeys?: string[] | null;
  requiredCapabilities?: string[] | null;
  assigneeId?: string | null;
  delegatedById?: string | null;
  /** What kind of task (issue 12); default: the root's family, or the title's for a root. */
  family?: string | null;
}

export type CreateStepData = CreateTaskData & StepOptionsInput;

export interface UpdateTaskData {
  title?: string | null;
  description?: string | null;
  priority?: TaskPriority | null;
  requiredCapabilities?: string[] | null;
}

/** Task lifecycle rules; every method that writes is one transaction. */
export class TaskService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * Creates tasks in one transaction. Within a batch, `key`/`parentKey`/`dependsOnKeys` let
   * tasks refer to each other; dependencies among them must not form a cycle.
   */
  async createMany(tenantId: string, actor: string, inputs: CreateStepData[]): Promise<Task[]> {
    listOfAtMost('inputs', inputs, LIMITS.batch);
    const newIds: string[] = inputs.map(() => randomUUID());
    const byKey = keyResolver(inputs, newIds);
    const tasks: (repo.NewTask & StepOptions & { assigneeId: string | null })[] = inputs.map(
      (input, i) =>
        atPosition(inputs.length > 1 ? `inputs[${i}].` : '', () => ({
          id: newIds[i]!,
          title: requiredName('title', input.title, LIMITS.title),
          description: optionalText('description', input.description, LIMITS.description) ?? null,
          priority: input.priority ?? TaskPriority.MEDIUM,
          createdBy: actor,
          parentId: parentOf(input, byKey),
          dependsOn: dependencies(input, byKey),
          capabilities: distinctNames(
            'requiredCapabilities',
            input.requiredCapabilities ?? [],
            LIMITS.capabilities,
            LIMITS.name,
          ),
          delegatedById: input.delegatedById ?? null,
          assigneeId: input.assigneeId ?? null,
          family: givenFamily(input.family),
          ...stepOptions(input),
        })),
    );
    for (const t of tasks) {
      if (t.dependsOn.includes(t.id)) throw new BadInputError('A task cannot depend on itself');
      if (t.parentId === t.id) throw new BadInputError('A task cannot be its own parent');
    }
    assertAcyclic(tasks);
    assertNoParentCycle(tasks);

    return this.uow.run(async (tx, emit) => {
      const batch = new Set(newIds);
      // `!== null`, not truthiness: an empty id names nothing (NOT_FOUND); it used to be
      // skipped, creating the task without the parent, dependency or agent asked for.
      const external = (list: (string | null)[]) => [
        ...new Set(list.filter((id): id is string => id !== null && !batch.has(id))),
      ];
      const [missingTask] = await unknownIds(
        tx,
        tenantId,
        'Task',
        external(tasks.flatMap((t) => [t.parentId, ...t.dependsOn])),
      );
      if (missingTask !== undefined) throw new NotFoundError('Task', missingTask);
      const storedKeys = await repo.keysOfTasks(
        tx,
        tenantId,
        external(tasks.flatMap((t) => t.dependsOn)),
      );
      const keyOf = new Map([...storedKeys, ...tasks.map((t) => [t.id, t.key] as const)]);
      tasks.forEach((t, i) =>
        atPosition(tasks.length > 1 ? `inputs[${i}].` : '', () =>
          assertConditionKeys(
            t.condition,
            t.dependsOn.map((d) => keyOf.get(d)).filter((k): k is string => !!k),
          ),
        ),
      );
      const agentIds = external(tasks.flatMap((t) => [t.assigneeId, t.delegatedById]));
      // Under their locks (in id order): an agent deactivated or deleted meanwhile is seen so.
      const agents = await agentRepo.lockAgents(tx, tenantId, agentIds);
      const missingAgent = agentIds.find((id) => !agents.some((a) => a.id === id));
      if (missingAgent !== undefined) throw new NotFoundError('Agent', missingAgent);
      for (const t of tasks) {
        const agent = agents.find((a) => a.id === t.assigneeId);
        if (agent && !agent.active) throw inactive(agent.name);
      }

      const created = await repo.createTasks(tx, tenantId, tasks);
      await setConsensusSpecs(
        tx,
        tenantId,
        tasks.flatMap((t) => (t.consensus ? [{ taskId: t.id, spec: t.consensus }] : [])),
      );
      for (const t of tasks) {
        if (t.assigneeId)
          await repo.assign(tx, tenantId, t.id, t.assigneeId, null, `assigned by ${actor}`);
      }
      // A task under a parent of before may join a workflow the engine runs.
      const joining = tasks.filter((t) => t.parentId !== null && !batch.has(t.parentId));
      await refuseUnrunnable(
        tx,
        tenantId,
        'createTask',
        joining.map((t) => t.id),
      );
      await publishTasks(tx, emit, created, 'CREATED');
      return created;
    });
  }

  async update(tenantId: string, id: string, input: UpdateTaskData): Promise<Task> {
    const patch: repo.TaskPatch = {};
    if (input.title !== undefined && input.title !== null) {
      patch.title = requiredName('title', input.title, LIMITS.title);
    }
    const description = optionalText('description', input.description, LIMITS.description);
    if (description !== undefined) patch.description = description;
    if (input.priority) patch.priority = input.priority;
    const caps = input.requiredCapabilities
      ? distinctNames(
          'requiredCapabilities',
          input.requiredCapabilities,
          LIMITS.capabilities,
          LIMITS.name,
        )
      : undefined;
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      if (isFinished(before.status)) {
        throw new BadInputError(
          `A ${before.status} task cannot be edited; retry it first if it failed`,
        );
      }
      if (caps) await repo.replaceRequirements(tx, tenantId, id, caps);
      const task = await repo.patchTask(tx, tenantId, id, patch);
      await publishTasks(tx, emit, [task], 'UPDATED');
      return task;
    });
  }

  assign(tenantId: string, taskId: string, agentId: string, actor: string, reason?: string | null) {
    const why = optionalText('reason', reason, LIMITS.description) ?? `assigned by ${actor}`;
    return this.uow.run(async (tx, emit) => {
      // The agent's lock before the task's, as deactivating or deleting an agent takes them:
      // an agent deactivated or deleted meanwhile is seen so, not given work.
      const agent = await agentRepo.lockAgent(tx, tenantId, agentId);
      const task = await lockOrThrow(tx, tenantId, taskId);
      if (isFinished(task.status)) {
        throw new BadInputError(`A ${task.status} task cannot be assigned`, {
          status: task.status,
        });
      }
      if (!agent) throw new NotFoundError('Agent', agentId);
      if (!agent.active) throw inactive(agent.name);
      await repo.assign(tx, tenantId, taskId, agentId, null, why);
      await publishTasks(tx, emit, [task], 'ASSIGNED');
      return task;
    });
  }

  unassign(tenantId: string, taskId: string): Promise<Task> {
    return this.uow.run(async (tx, emit) => {
      const task = await lockOrThrow(tx, tenantId, taskId);
      if (task.status === TaskStatus.IN_PROGRESS) {
        throw new ConflictError('A task IN_PROGRESS cannot be unassigned; cancel it first');
      }
      if (await repo.unassign(tx, tenantId, taskId)) {
        await publishTasks(tx, emit, [task], 'UNASSIGNED');
      }
      return task;
    });
  }

  /** Moves a task along the transition table, recording a result or an error. */
  setStatus(
    tenantId: string,
    id: string,
    status: TaskStatus,
    outcome: { result?: string | null; error?: string | null } = {},
  ): Promise<Task> {
    const result = optionalText('result', outcome.result, LIMITS.result);
    const error = optionalText('error', outcome.error, LIMITS.description);
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      assertTaskTransition(before.status, status);
      const patch: repo.TaskPatch = { status };
      if (result !== undefined) patch.result = result;
      if (error !== undefined) patch.error = error;
      const task = await repo.patchTask(tx, tenantId, id, patch);
      if (before.orchestrated) {
        await refuseUnrunnable(tx, tenantId, 'setTaskStatus', [id]);
      }
      await publishTasks(tx, emit, [task], 'STATUS_CHANGED');
      return task;
    });
  }

  /** Cancels the task and every unfinished task below it, in one transaction. */
  cancel(tenantId: string, id: string): Promise<Task> {
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      assertTaskTransition(before.status, TaskStatus.CANCELLED, 'cancel');
      const descendants = await repo.openDescendantIds(tx, tenantId, id);
      // Says who cancelled: an earlier attempt's "failed (will retry)" must not stay (issue 10).
      const actor = auditScope.getStore()?.actor;
      const error = actor ? `cancelled by ${actor}` : 'cancelled';
      const cancelled: Task[] = [];
      for (const childId of descendants) {
        // Read unfinished before its lock: one that ended meanwhile (its run's end, a person)
        // keeps its end.
        const locked = await repo.lockTask(tx, tenantId, childId);
        if (!locked || isFinished(locked.status)) continue;
        cancelled.push(
          await repo.patchTask(tx, tenantId, childId, {
            status: TaskStatus.CANCELLED,
            error: `${error} (with task ${id} above it)`,
          }),
        );
      }
      const task = await repo.patchTask(tx, tenantId, id, { status: TaskStatus.CANCELLED, error });
      // Running steps lose their run; their workers notice at the next heartbeat and abort.
      await cancelRuns(tx, [...cancelled.map((t) => t.id), id], error);
      // A workflow's root that a person cancelled is judged like one that settled (issue 12).
      if (task.orchestrated) await evaluateRootTask(tx, emit, id);
      await publishTasks(tx, emit, [...cancelled, task], 'STATUS_CHANGED');
      return task;
    });
  }

  /**
   * Retries a FAILED or CANCELLED task: a step, a subtree or a whole workflow (see
   * reopenForRetry); its error is cleared and its attempts start again.
   */
  retry(tenantId: string, id: string): Promise<Task> {
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      const changed = await reopenForRetry(tx, before, this.backlog);
      await refuseUnrunnable(
        tx,
        tenantId,
        'retryTask',
        changed.map((t) => t.id),
      );
      await publishTasks(tx, emit, changed, 'STATUS_CHANGED');
      return changed.find((t) => t.id === id)!;
    });
  }

  /** Adds `taskId DEPENDS_ON dependsOnId`; refuses an edge that would close a cycle. */
  addDependency(tenantId: string, taskId: string, dependsOnId: string): Promise<Task> {
    if (taskId === dependsOnId) throw new BadInputError('A task cannot depend on itself');
    return this.uow.run(async (tx, emit) => {
      await lockTaskEdges(tx, tenantId);
      const task = await lockOrThrow(tx, tenantId, taskId);
      await lockOrThrow(tx, tenantId, dependsOnId);
      const edge = { from: taskId, to: dependsOnId };
      if ((await edgeClosingCycle(tx, tenantId, 'DEPENDS_ON', [edge])) !== null) {
        throw new BadInputError(
          `This dependency would make a cycle: task ${dependsOnId} already depends on task ${taskId}`,
          { taskId, dependsOnId },
        );
      }
      if (task.orchestrated) refuseNewDependency(task);
      await repo.addDependency(tx, tenantId, taskId, dependsOnId);
      if (task.orchestrated) {
        await refuseUnrunnable(tx, tenantId, 'addTaskDependency', [taskId]);
        const rootId = await rootIdOf(tx, tenantId, taskId);
        await refuseSelfWaiting(tx, tenantId, 'addTaskDependency', rootId);
      }
      await publishTasks(tx, emit, [task], 'UPDATED');
      return task;
    });
  }

  removeDependency(tenantId: string, taskId: string, dependsOnId: string): Promise<Task> {
    return this.uow.run(async (tx, emit) => {
      const task = await lockOrThrow(tx, tenantId, taskId);
      // An id of nothing is NOT_FOUND, as in addDependency, not a silent success.
      const [missing] = await unknownIds(tx, tenantId, 'Task', [dependsOnId]);
      if (missing !== undefined) throw new NotFoundError('Task', missing);
      await repo.removeDependency(tx, tenantId, taskId, dependsOnId);
      const left = await relatedTasks(tx, tenantId, [taskId], 'dependencies');
      assertConditionKeepsKeys(
        task,
        dependsOnId,
        left.map((d) => d.task.key),
      );
      await publishTasks(tx, emit, [task], 'UPDATED');
      return task;
    });
  }

  list(
    tenantId: string,
    filter: repo.TaskFilter,
    sort: Sort,
    input: PageInput,
  ): Promise<Page<Task>> {
    const page = pageRequest(input);
    const text = optionalText('text', filter.text, LIMITS.search) ?? undefined;
    return this.uow.read((tx) => repo.listTasks(tx, tenantId, { ...filter, text }, sort, page));
  }

  counts(tenantId: string) {
    return this.uow.read((tx) => repo.taskCounts(tx, tenantId));
  }
}

async function lockOrThrow(tx: Tx, tenantId: string, id: string): Promise<Task> {
  const task = await repo.lockTask(tx, tenantId, id);
  if (!task) throw new NotFoundError('Task', id);
  return task;
}

function inactive(name: string) {
  return new ConflictError(`Agent "${name}" is inactive: activate it before assigning work to it`);
}
