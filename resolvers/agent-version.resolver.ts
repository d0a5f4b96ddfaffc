import DataLoader from 'dataloader';
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
import { AgentVersion } from '../schema/agent-version.type.js';
import { Role } from '../schema/enums.js';
import type { AgentVersion as DomainVersion, VersionStatus } from '../src/domain/agent-version.js';
import { NotFoundError } from '../src/domain/errors.js';
import type { VersionRecord } from '../src/evolution/versions/versions.service.js';
import type { AppContext } from '../src/server/context.js';

/** One live-version loader per request (keyed by the request's own loaders object). */
const liveLoaders = new WeakMap<object, DataLoader<string, AgentVersion | null>>();

/** Agent.liveVersion for a page of agents: two statements, whatever the page's size. */
function liveLoader(ctx: AppContext) {
  let loader = liveLoaders.get(ctx.loaders);
  if (!loader) {
    loader = new DataLoader(async (agentIds: readonly string[]) => {
      const live = await ctx.services.versions.live(ctx.tenantId, agentIds);
      const records = await ctx.services.versions.records(
        ctx.tenantId,
        live.map((v) => v.id),
      );
      return agentIds.map((id) => {
        const record = records.find((r) => r.version.agentId === id);
        return record ? toView(record) : null;
      });
    });
    liveLoaders.set(ctx.loaders, loader);
  }
  return loader;
}

function toView(v: VersionRecord): AgentVersion {
  return {
    ...v.version,
    runs: v.runs,
    evaluatedRuns: v.evaluatedRuns,
    meanScore: v.meanScore,
    transitions: v.transitions.map((t) => ({
      ...t,
      from: t.from as VersionStatus | null,
      to: t.to as VersionStatus,
    })),
  };
}

/** The version as the history shows it (runs, mean score, transitions). */
async function viewOf(ctx: AppContext, v: DomainVersion): Promise<AgentVersion> {
  const [record] = await ctx.services.versions.records(ctx.tenantId, [v.id]);
  if (!record) throw new NotFoundError('AgentVersion', v.id);
  return toView(record);
}

@Authorized(Role.VIEWER)
@Resolver(() => AgentVersion)
export class AgentVersionResolver {
  @Query(() => [AgentVersion], {
    description:
      "The agent's versions, newest first, each with its status, origin, reason, parent, runs, mean score and transitions. NOT_FOUND for an unknown agent.",
  })
  async agentVersions(
    @Arg('agentId', () => ID) agentId: string,
    @Ctx() ctx: AppContext,
  ): Promise<AgentVersion[]> {
    return (await ctx.services.versions.history(ctx.tenantId, agentId)).map(toView);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => AgentVersion, {
    description:
      "A reflection on the agent's recent low-scoring runs and their evaluations proposes revised instructions, saved as a CANDIDATE version (origin PLATFORM) that gets EVOLUTION_CANARY_SHARE of the agent's runs. BAD_USER_INPUT when there is no low-scoring evaluated run; CONFLICT when the agent already has a candidate.",
  })
  async proposeAgentVersion(
    @Arg('agentId', () => ID) agentId: string,
    @Ctx() ctx: AppContext,
  ): Promise<AgentVersion> {
    const v = await ctx.services.versions.propose(ctx.tenantId, agentId, ctx.actor);
    return viewOf(ctx, v);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => AgentVersion, {
    description:
      'Makes a CANDIDATE version LIVE by hand (the live one is RETIRED). CONFLICT when it is not a candidate.',
  })
  async promoteAgentVersion(
    @Arg('versionId', () => ID) versionId: string,
    @Arg('reason', () => String, { description: 'Why, 1 to 1000 characters.' }) reason: string,
    @Ctx() ctx: AppContext,
  ): Promise<AgentVersion> {
    const v = await ctx.services.versions.promote(ctx.tenantId, versionId, reason, ctx.actor);
    return viewOf(ctx, v);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => AgentVersion, {
    description:
      "Rolls a version back by hand: a CANDIDATE stops running; a LIVE version is replaced by a new one with its parent's behaviour. Returns the rolled-back version.",
  })
  async rollbackAgentVersion(
    @Arg('versionId', () => ID) versionId: string,
    @Arg('reason', () => String, { description: 'Why, 1 to 1000 characters.' }) reason: string,
    @Ctx() ctx: AppContext,
  ): Promise<AgentVersion> {
    const v = await ctx.services.versions.rollback(ctx.tenantId, versionId, reason, ctx.actor);
    return viewOf(ctx, v);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentLiveVersionResolver {
  @FieldResolver(() => AgentVersion, {
    nullable: true,
    description: 'The version the agent runs now (its number is Agent.version).',
  })
  liveVersion(@Root() agent: Agent, @Ctx() ctx: AppContext): Promise<AgentVersion | null> {
    return liveLoader(ctx).load(agent.id);
  }
}
