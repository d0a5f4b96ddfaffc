import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import { Role } from '../schema/enums.js';
import { KnowledgeEfficacy } from '../schema/lesson.type.js';
import { Skill, SpawnOrigin } from '../schema/skill.type.js';
import type { AppContext } from '../src/server/context.js';
import { skillEfficacy } from '../src/evolution/skills/lifecycle.js';
import { skillsOf } from '../src/evolution/skills/query.js';
import { spawnOriginLoader } from '../src/evolution/spawning/query.js';

@Authorized(Role.VIEWER)
@Resolver(() => Skill)
export class SkillResolver {
  @Query(() => [Skill], {
    description:
      'Skills (workflows that worked, issue 12), ACTIVE first then the strongest; of one task family (normalised as submitTask does: "Weekly Report" is weekly-report), status (CANDIDATE, ACTIVE or RETIRED) or capability when given. first: 1 to 100, default 20.',
  })
  skills(
    @Ctx() ctx: AppContext,
    @Arg('family', () => String, { nullable: true }) family?: string | null,
    @Arg('status', () => String, { nullable: true }) status?: string | null,
    @Arg('capability', () => String, { nullable: true }) capability?: string | null,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
  ): Promise<Skill[]> {
    return skillsOf(ctx.services.uow, ctx.tenantId, { family, status, capability }, first);
  }

  @FieldResolver(() => KnowledgeEfficacy, {
    description:
      "The PASS rate of its family's root tasks planned with it offered against those planned without it (the roots finished since it was made, those that strengthened it included), with a 95% interval (Newcombe). Its lifecycle decides on this.",
  })
  efficacy(@Root() skill: Skill, @Ctx() ctx: AppContext): Promise<KnowledgeEfficacy> {
    return ctx.loaders
      .keyed<KnowledgeEfficacy>(
        'skillEfficacy',
        null,
        () =>
          new DataLoader((ids) =>
            Promise.all(ids.map((id) => skillEfficacy(ctx.services.uow, ctx.tenantId, id))),
          ),
      )
      .load(skill.id);
  }
}

/** One loader per request (never shared across requests or tenants). */
const origins = new WeakMap<AppContext, ReturnType<typeof spawnOriginLoader>>();

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentSpawnResolver {
  @FieldResolver(() => SpawnOrigin, {
    nullable: true,
    description:
      'The Chief of Staff that spawned this agent and why (issue 12); null for agents people made.',
  })
  spawnedBy(@Root() agent: Agent, @Ctx() ctx: AppContext): Promise<SpawnOrigin | null> {
    let loader = origins.get(ctx);
    if (!loader) origins.set(ctx, (loader = spawnOriginLoader(ctx.services.uow, ctx.tenantId)));
    return loader.load(agent.id) as Promise<SpawnOrigin | null>;
  }
}
