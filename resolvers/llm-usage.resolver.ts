import { Arg, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import { Role } from '../schema/enums.js';
import { LLMUsage, LLMUsageScope } from '../schema/llm-usage.type.js';
import { Task } from '../schema/task.type.js';
import { Run } from '../schema/workflow.type.js';
import type { AppContext } from '../src/server/context.js';

@Authorized(Role.VIEWER)
@Resolver(() => LLMUsage)
export class LLMUsageResolver {
  @Query(() => LLMUsage, { description: "Totals over every model call of the caller's tenant." })
  llmUsage(@Ctx() ctx: AppContext): Promise<LLMUsage> {
    return ctx.loaders.llmUsage.ofTenant();
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Run)
export class RunLLMUsageResolver {
  @FieldResolver(() => LLMUsage, { description: 'The model calls made in this run.' })
  llmUsage(@Root() run: Run, @Ctx() ctx: AppContext): Promise<LLMUsage> {
    return ctx.loaders.llmUsage.byRun.load(run.id);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Task)
export class TaskLLMUsageResolver {
  @FieldResolver(() => LLMUsage, {
    description:
      'The model calls made for this task: its own runs (scope TASK, the default), or it and every subtask below it (scope SUBTREE).',
  })
  llmUsage(
    @Root() task: Task,
    @Ctx() ctx: AppContext,
    @Arg('scope', () => LLMUsageScope, { defaultValue: LLMUsageScope.TASK })
    scope: LLMUsageScope,
  ): Promise<LLMUsage> {
    const loaders = ctx.loaders.llmUsage;
    return (scope === LLMUsageScope.SUBTREE ? loaders.bySubtree : loaders.byTask).load(task.id);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentLLMUsageResolver {
  @FieldResolver(() => LLMUsage, { description: 'The model calls this agent made.' })
  llmUsage(@Root() agent: Agent, @Ctx() ctx: AppContext): Promise<LLMUsage> {
    return ctx.loaders.llmUsage.byAgent.load(agent.id);
  }
}
