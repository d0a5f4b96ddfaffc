import type { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Agent, StatusCount } from '../schema/agent.type.js';
import { pageInput, toConnection } from '../schema/connection.type.js';
import { Role, TaskOrder, TaskStatus } from '../schema/enums.js';
import { CreateTaskInput, TaskFilter, UpdateTaskInput } from '../schema/task.input.js';
import { Assignment, Task, TaskConnection, TaskUpdate } from '../schema/task.type.js';
import { PageArgs } from '../schema/page.args.js';
import type { AppContext } from '../src/server/context.js';
import { pageSize } from '../src/domain/page.js';
import { tenantEvents } from '../subscriptions/pubsub.js';
import { TOPICS, type TaskUpdatedEvent } from '../subscriptions/topics.js';
import { newestOnly } from '../subscriptions/newest.js';
import { orderToSort, RESUME_AFTER, withoutNulls } from './args.js';
import { selectedFields, selectedFieldsUnder } from './selection.js';
import { agentTasksLoader } from './agent-lookahead.js';
import { answerAhead } from './read-ahead.js';

@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class TaskResolver {
  @Query(() => Task, { description: 'One task; NOT_FOUND when unknown.' })
  async task(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Task> {
    const { task, answers } = await ctx.loaders.tasks.withRelations(
      id,
      selectedFields(info),
      (field) => selectedFieldsUnder(info, field),
    );
    for (const [field, value] of Object.entries(answers)) answerAhead(task, field, value);
    return task;
  }

  @Query(() => TaskConnection)
  async tasks(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter?: TaskFilter | null,
    @Arg('orderBy', () => TaskOrder, { defaultValue: TaskOrder.CREATED_ASC }) orderBy?: TaskOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<TaskConnection> {
    const page = await ctx.services.tasks.list(
      ctx.tenantId,
      withoutNulls(filter),
      orderToSort(orderBy ?? TaskOrder.CREATED_ASC),
      pageInput(args, info),
    );
    return toConnection(page);
  }

  @Query(() => [StatusCount], {
    description: 'How many tasks of the organisation are in each status.',
  })
  taskCounts(@Ctx() ctx: AppContext): Promise<StatusCount[]> {
    return ctx.services.tasks.counts(ctx.tenantId);
  }

  @FieldResolver(() => Agent, { nullable: true })
  async assignee(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Agent | null> {
    return ctx.loaders.tasks.assigneeOf(task);
  }

  @FieldResolver(() => Assignment, {
    nullable: true,
    description: 'The assignee, score and reason.',
  })
  async assignment(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Assignment | null> {
    const [assignment] = await ctx.loaders.tasks.assignment.load(task.id);
    return assignment ?? null;
  }

  @FieldResolver(() => Task, { nullable: true })
  async parent(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Task | null> {
    const [parent] = await ctx.loaders.tasks.relatedTo(task, 'parent');
    return parent ?? null;
  }

  @FieldResolver(() => [Task], { description: 'Direct subtasks, oldest first.' })
  async subtasks(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Task[]> {
    return ctx.loaders.tasks.relatedTo(task, 'subtasks');
  }

  @FieldResolver(() => [Task], { description: 'Tasks this one waits for.' })
  async dependencies(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Task[]> {
    return ctx.loaders.tasks.relatedTo(task, 'dependencies');
  }

  @FieldResolver(() => [Task], { description: 'Tasks that wait for this one.' })
  async dependents(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Task[]> {
    return ctx.loaders.tasks.relatedTo(task, 'dependents');
  }

  @FieldResolver(() => [String])
  async requiredCapabilities(@Root() task: Task, @Ctx() ctx: AppContext): Promise<string[]> {
    return (await ctx.loaders.tasks.requirements.load(task.id)).map((r) => r.name);
  }

  @FieldResolver(() => Agent, { nullable: true, description: 'The agent that delegated it.' })
  async delegatedBy(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Agent | null> {
    const [row] = await ctx.loaders.tasks.delegator.load(task.id);
    return row?.agent ?? null;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task)
  async createTask(
    @Arg('input', () => CreateTaskInput) input: CreateTaskInput,
    @Ctx() ctx: AppContext,
  ): Promise<Task> {
    const [task] = await ctx.services.tasks.createMany(ctx.tenantId, ctx.actor, [input]);
    return task!;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => [Task], {
    description: 'Creates up to 100 tasks in one transaction; they may refer to each other by key.',
  })
  createTasks(
    @Arg('inputs', () => [CreateTaskInput]) inputs: CreateTaskInput[],
    @Ctx() ctx: AppContext,
  ): Promise<Task[]> {
    return ctx.services.tasks.createMany(ctx.tenantId, ctx.actor, inputs);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task)
  updateTask(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateTaskInput) input: UpdateTaskInput,
    @Ctx() ctx: AppContext,
  ): Promise<Task> {
    return ctx.services.tasks.update(ctx.tenantId, id, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Assigns (or reassigns) the task to an active agent.' })
  assignTask(
    @Arg('id', () => ID) id: string,
    @Arg('agentId', () => ID) agentId: string,
    @Ctx() ctx: AppContext,
    @Arg('reason', () => String, { nullable: true }) reason?: string | null,
  ): Promise<Task> {
    return ctx.services.tasks.assign(ctx.tenantId, id, agentId, ctx.actor, reason);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task)
  unassignTask(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Task> {
    return ctx.services.tasks.unassign(ctx.tenantId, id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description: 'Moves the task along the transition table, with an optional result or error.',
  })
  setTaskStatus(
    @Arg('id', () => ID) id: string,
    @Arg('status', () => TaskStatus) status: TaskStatus,
    @Ctx() ctx: AppContext,
    @Arg('result', () => String, { nullable: true }) result?: string | null,
    @Arg('error', () => String, { nullable: true }) error?: string | null,
  ): Promise<Task> {
    return ctx.services.tasks.setStatus(ctx.tenantId, id, status, { result, error });
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Cancels the task and its unfinished subtasks.' })
  cancelTask(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Task> {
    return ctx.services.tasks.cancel(ctx.tenantId, id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Takes a FAILED or CANCELLED task back for another go, attempts from 0: PENDING, or for a workflow root IN_PROGRESS with its failed and cancelled steps (AWAITING_APPROVAL when its plan was never approved); the steps its end skipped, or its failing parent cancelled, come back with it. BAD_USER_INPUT for any other status.',
  })
  retryTask(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Task> {
    return ctx.services.tasks.retry(ctx.tenantId, id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Makes the task wait for another; a cycle is refused.' })
  addTaskDependency(
    @Arg('id', () => ID) id: string,
    @Arg('dependsOnId', () => ID) dependsOnId: string,
    @Ctx() ctx: AppContext,
  ): Promise<Task> {
    return ctx.services.tasks.addDependency(ctx.tenantId, id, dependsOnId);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task)
  removeTaskDependency(
    @Arg('id', () => ID) id: string,
    @Arg('dependsOnId', () => ID) dependsOnId: string,
    @Ctx() ctx: AppContext,
  ): Promise<Task> {
    return ctx.services.tasks.removeDependency(ctx.tenantId, id, dependsOnId);
  }

  @Subscription(() => TaskUpdate, {
    topics: TOPICS.taskUpdated,
    // type-graphql hands topicId to PubSub.subscribe: filtered as events fan out, unbuffered.
    topicId: ({ args, context }) => {
      const isNewest = newestOnly();
      return tenantEvents<TaskUpdatedEvent>(
        (context as AppContext).tenantId,
        (event) => {
          if (args.taskId && event.task.id !== args.taskId) return false;
          if (
            args.rootId &&
            event.task.id !== args.rootId &&
            !event.ancestorIds.includes(args.rootId)
          ) {
            return false;
          }
          return event.seq === undefined || isNewest(event.task.id, event.seq);
        },
        (args as { after?: string | null }).after,
      );
    },
    description:
      "Changes to every task, to one task (taskId), or to a task and all its descendants (rootId), each task's in the order they were committed (numbered by `seq`). A task never goes back: a change that arrives after a newer one of its task (its writer died before publishing it) is left out, and so is a second copy of one.",
  })
  taskUpdated(
    @Root() event: TaskUpdatedEvent,
    @Arg('taskId', () => ID, { nullable: true }) _taskId?: string | null,
    @Arg('rootId', () => ID, { nullable: true }) _rootId?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): TaskUpdate {
    return { task: event.task, change: event.change, seq: event.seq ?? 0 };
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentTasksResolver {
  @FieldResolver(() => [Task], { description: 'Tasks assigned to the agent, newest first.' })
  async tasks(
    @Root() agent: Agent,
    @Ctx() ctx: AppContext,
    @Arg('status', () => [TaskStatus], { nullable: true }) status?: TaskStatus[] | null,
    @Arg('first', () => Int, { defaultValue: 50, description: '1 to 100.' }) first?: number,
    @Info() info?: GraphQLResolveInfo,
  ): Promise<Task[]> {
    // pageSize, as every list: its refusal names the field (extensions.field).
    const limit = pageSize(first ?? 50);
    // Only the properties the query selects, when it selects nothing else (selection.ts).
    const fields = info ? selectedFields(info) : null;
    const loader = agentTasksLoader(ctx, status ?? null, limit, fields);
    return (await loader.load(agent.id)).map((r) => r.task);
  }

  @FieldResolver(() => [StatusCount], { description: 'Assigned tasks by status.' })
  async taskCounts(@Root() agent: Agent, @Ctx() ctx: AppContext): Promise<StatusCount[]> {
    return ctx.loaders.tasks.agentTaskCounts.load(agent.id);
  }
}
