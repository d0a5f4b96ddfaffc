import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import {
  Performance,
  PerformanceBucket,
  PerformanceWindowInput,
} from '../schema/analytics.type.js';
import { Role } from '../schema/enums.js';
import { LLMUsageGroup, LLMUsageTrend } from '../schema/llm-usage.type.js';
import type { AppContext } from '../src/server/context.js';

const WINDOW = {
  nullable: true,
  description: 'The window, [since, until); default: the 7 days before now.',
} as const;
const BUCKET = {
  defaultValue: PerformanceBucket.DAY,
  description: 'The size of the trend’s buckets; the window holds at most 366 of them.',
} as const;
const RULES =
  'Runs count by when they ended (SUCCEEDED or FAILED); every run counts in runs, cost and latency, only evaluated runs in successRate and meanScore, and the cost also holds the model calls of attempts that ended without an outcome (INTERRUPTED, RELEASED, ABANDONED, ABORTED, CANCELLED) (effective evaluation: a person over the judge over the objective signals); success = verdict PASS. BAD_USER_INPUT when since is not before until or the window holds more than 366 buckets.';

@Authorized(Role.VIEWER)
@Resolver()
export class AnalyticsResolver {
  @Query(() => Performance, {
    description: `How an agent's runs fared over a window, and the trend per bucket. ${RULES} NOT_FOUND when the agent is not the tenant's.`,
  })
  async agentPerformance(
    @Arg('agentId', () => ID) agentId: string,
    @Ctx() ctx: AppContext,
    @Arg('window', () => PerformanceWindowInput, WINDOW) window?: PerformanceWindowInput | null,
    @Arg('bucket', () => PerformanceBucket, BUCKET)
    bucket: PerformanceBucket = PerformanceBucket.DAY,
  ): Promise<Performance> {
    const p = await ctx.services.analytics.agent(ctx.tenantId, agentId, window, bucket);
    return { ...p, bucket };
  }

  @Query(() => Performance, {
    description: `How the runs of tasks that require a capability fared over a window, whoever ran them, and the trend per bucket. ${RULES} NOT_FOUND when no agent or task of the tenant names the capability.`,
  })
  async capabilityPerformance(
    @Arg('name', () => String, { description: 'The capability’s name.' }) name: string,
    @Ctx() ctx: AppContext,
    @Arg('window', () => PerformanceWindowInput, WINDOW) window?: PerformanceWindowInput | null,
    @Arg('bucket', () => PerformanceBucket, BUCKET)
    bucket: PerformanceBucket = PerformanceBucket.DAY,
  ): Promise<Performance> {
    const p = await ctx.services.analytics.capability(ctx.tenantId, name, window, bucket);
    return { ...p, bucket };
  }

  @Query(() => LLMUsageTrend, {
    description:
      "The tenant's model calls over a window, per bucket and per model or agent: tokens and cost over time. Calls count by when they were made. BAD_USER_INPUT when since is not before until or the window holds more than 366 buckets.",
  })
  async llmUsageTrend(
    @Ctx() ctx: AppContext,
    @Arg('by', () => LLMUsageGroup, { defaultValue: LLMUsageGroup.MODEL }) by: LLMUsageGroup,
    @Arg('window', () => PerformanceWindowInput, WINDOW) window?: PerformanceWindowInput | null,
    @Arg('bucket', () => PerformanceBucket, BUCKET)
    bucket: PerformanceBucket = PerformanceBucket.DAY,
  ): Promise<LLMUsageTrend> {
    const trend = await ctx.services.analytics.usageTrend(ctx.tenantId, by, window, bucket);
    return { ...trend, by, bucket };
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentPerformanceResolver {
  @FieldResolver(() => Performance, {
    description: `How this agent's runs fared over a window (as agentPerformance), for a list of agents in one statement. ${RULES}`,
  })
  async performance(
    @Root() agent: Agent,
    @Ctx() ctx: AppContext,
    @Arg('window', () => PerformanceWindowInput, WINDOW) window?: PerformanceWindowInput | null,
    @Arg('bucket', () => PerformanceBucket, BUCKET)
    bucket: PerformanceBucket = PerformanceBucket.DAY,
  ): Promise<Performance> {
    const loader = ctx.loaders.keyed(
      'agentPerformance',
      [window ?? null, bucket],
      () =>
        new DataLoader((ids: readonly string[]) =>
          ctx.services.analytics.agents(ctx.tenantId, ids, window, bucket),
        ),
    );
    return { ...(await loader.load(agent.id)), bucket };
  }
}
