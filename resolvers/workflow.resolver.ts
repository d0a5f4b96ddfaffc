import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import { Role } from '../schema/enums.js';
import { Task } from '../schema/task.type.js';
import { SubmitTaskInput } from '../schema/task.input.js';
import { Run, Workflow } from '../schema/workflow.type.js';
import type { AppContext } from '../src/server/context.js';

@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class WorkflowResolver {
  @Query(() => Workflow, {
    description: 'The whole DAG below a task, with statuses, runs and assignments.',
  })
  workflow(@Arg('taskId', () => ID) taskId: string, @Ctx() ctx: AppContext): Promise<Workflow> {
    return ctx.services.workflows.workflow(ctx.tenantId, taskId);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Submits a task to a Chief of Staff: it plans the task into steps, Master Operators carry them out, and the Chief of Staff writes the result. Watch it with taskUpdated(rootId).',
  })
  submitTask(
    @Arg('input', () => SubmitTaskInput) input: SubmitTaskInput,
    @Ctx() ctx: AppContext,
  ): Promise<Task> {
    return ctx.services.workflows.submit(ctx.tenantId, ctx.actor, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Hands a PENDING task and its subtasks to the orchestration engine. CONFLICT when it was handed to it already (startWorkflow, submitTask), saying when.',
  })
  startWorkflow(
    @Arg('taskId', () => ID) taskId: string,
    @Ctx() ctx: AppContext,
    @Arg('family', () => String, {
      nullable: true,
      description: 'Gives the task and every task below it this family (see Task.family).',
    })
    family?: string | null,
  ): Promise<Task> {
    return ctx.services.workflows.start(ctx.tenantId, taskId, family);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Lets a step AWAITING_APPROVAL run; the decision is recorded. CONFLICT once it no longer waits; a plan that waits is approved with approvePlan.',
  })
  approveTask(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: AppContext,
    @Arg('comment', () => String, { nullable: true }) comment?: string | null,
  ): Promise<Task> {
    return ctx.services.workflows.approve(ctx.tenantId, id, ctx.actor, comment);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Skips a step AWAITING_APPROVAL; the decision is recorded. CONFLICT once it no longer waits; a plan that waits is rejected with rejectPlan.',
  })
  rejectTask(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: AppContext,
    @Arg('reason', () => String, {
      nullable: true,
      description: "Why, 1 to 10000 characters; kept in the skipped step's error.",
    })
    reason?: string | null,
  ): Promise<Task> {
    return ctx.services.workflows.reject(ctx.tenantId, id, ctx.actor, reason);
  }

  @FieldResolver(() => [Run], { description: 'Each attempt at this task, oldest first.' })
  runs(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Run[]> {
    return ctx.loaders.runs.load(task.id);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Run)
export class RunResolver {
  @FieldResolver(() => Agent, { nullable: true, description: 'The agent that ran it.' })
  async agent(@Root() run: Run, @Ctx() ctx: AppContext): Promise<Agent | null> {
    return run.agentId ? ctx.loaders.agent.load(run.agentId) : null;
  }
}
