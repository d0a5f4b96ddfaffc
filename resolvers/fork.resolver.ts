import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Role } from '../schema/enums.js';
import { Task } from '../schema/task.type.js';
import type { AppContext } from '../src/server/context.js';

/** Forks (issue 13): a new attempt of a step from a checkpoint of one of its runs. */
@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class ForkResolver {
  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Starts a new attempt of a run\'s step from one of the run\'s checkpoints (Run.checkpoints), as a task of its own (Task.forkOf) outside the workflow, so you can ask "what if" and compare. message: what the model reads next (only where the model runs next, or the loop had ended). The original run and task are not touched.',
  })
  forkRun(
    @Arg('runId', () => ID) runId: string,
    @Arg('checkpointId', () => ID) checkpointId: string,
    @Ctx() ctx: AppContext,
    @Arg('message', () => String, { nullable: true }) message?: string | null,
  ): Promise<Task> {
    return ctx.services.forks.fork(ctx.tenantId, { runId, checkpointId, message }, ctx.actor);
  }

  @FieldResolver(() => Task, {
    nullable: true,
    description: 'The step this task is a fork of (forkRun); null for other tasks.',
  })
  async forkOf(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Task | null> {
    const link = (await ctx.loaders.forkLinks.load(task.id)).find((l) => l.forkId === task.id);
    return link ? ctx.loaders.task.load(link.stepId) : null;
  }

  @FieldResolver(() => [Task], { description: 'Forks of this step (forkRun), oldest first.' })
  async forks(@Root() task: Task, @Ctx() ctx: AppContext): Promise<Task[]> {
    const links = (await ctx.loaders.forkLinks.load(task.id)).filter((l) => l.stepId === task.id);
    const tasks = await Promise.all(links.map((l) => ctx.loaders.task.load(l.forkId)));
    return tasks.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
