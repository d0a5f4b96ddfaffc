import DataLoader from 'dataloader';
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Resolver,
  Root,
} from 'type-graphql';
import { Role } from '../schema/enums.js';
import { KnowledgeKind } from '../src/domain/knowledge.js';
import { Knowledge } from '../schema/knowledge.type.js';
import { KnowledgeEfficacy, KnowledgeTransition } from '../schema/lesson.type.js';
import { LessonStatus } from '../src/domain/lesson.js';
import type { AppContext } from '../src/server/context.js';

/**
 * Lessons (issue 12) on the Knowledge type: their lifecycle, scope and evidence, and the
 * mutations with which people retire or activate them. Fields are batched per request.
 */
@Authorized(Role.VIEWER)
@Resolver(() => Knowledge)
export class LessonResolver {
  @FieldResolver(() => LessonStatus, {
    nullable: true,
    description: 'Lessons and skills: CANDIDATE, ACTIVE or RETIRED; null for other kinds.',
  })
  status(@Root() k: Knowledge & { status?: string | null }): LessonStatus | null {
    const status = k.status as LessonStatus | null | undefined;
    if (status) return status;
    // One recorded by hand (recordKnowledge) has none: a CANDIDATE, as the lifecycle reads it.
    const learned = k.kind === KnowledgeKind.LESSON || k.kind === KnowledgeKind.SKILL;
    return learned ? LessonStatus.CANDIDATE : null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "A lesson's scope: the capability it applies to; null for any.",
  })
  capability(@Root() k: Knowledge & { capability?: string | null }): string | null {
    return k.capability ?? null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "A lesson's scope: the task family it applies to (Task.family); null for any.",
  })
  family(@Root() k: Knowledge & { family?: string | null }): string | null {
    return k.family ?? null;
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description:
      'How many times it was drawn: a near-copy strengthens it instead of standing beside it.',
  })
  strength(@Root() k: Knowledge & { strength?: number | null }): number | null {
    return k.strength ?? null;
  }

  @FieldResolver(() => KnowledgeEfficacy, {
    description:
      'Outcomes of the comparable runs it was applied in against those it was not, with a 95% interval (Newcombe).',
  })
  efficacy(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<KnowledgeEfficacy> {
    return ctx.loaders
      .keyed<KnowledgeEfficacy>(
        'knowledgeEfficacy',
        null,
        () => new DataLoader((ids) => ctx.services.lessons.efficacy(ctx.tenantId, ids)),
      )
      .load(k.id);
  }

  @FieldResolver(() => [ID], { description: 'The runs it was drawn from (DERIVED_FROM).' })
  async derivedFrom(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<string[]> {
    return (await links(ctx).load(k.id)).derivedFrom;
  }

  @FieldResolver(() => Int, { description: 'Runs whose prompt carried it (APPLIED_IN).' })
  async appliedRuns(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<number> {
    return (await links(ctx).load(k.id)).appliedRuns;
  }

  @FieldResolver(() => [KnowledgeTransition], {
    description: 'Its changes of state with their reasons, oldest first.',
  })
  transitions(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<KnowledgeTransition[]> {
    return ctx.services.lessons.transitions(ctx.tenantId, k.id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Knowledge, {
    description:
      'Retires a CANDIDATE or ACTIVE lesson: it is never applied again. The reason (1 to 1000 characters) is recorded.',
  })
  async retireLesson(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String) reason: string,
    @Ctx() ctx: AppContext,
  ): Promise<Knowledge> {
    await ctx.services.lessons.retire(ctx.tenantId, id, reason, ctx.actor);
    return ctx.loaders.knowledge.load(id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Knowledge, {
    description:
      'Activates a CANDIDATE or RETIRED lesson: it is applied to every run of its scope. The reason (1 to 1000 characters) is recorded.',
  })
  async activateLesson(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String) reason: string,
    @Ctx() ctx: AppContext,
  ): Promise<Knowledge> {
    await ctx.services.lessons.activate(ctx.tenantId, id, reason, ctx.actor);
    return ctx.loaders.knowledge.load(id);
  }
}

function links(ctx: AppContext) {
  return ctx.loaders.keyed<{ derivedFrom: string[]; appliedRuns: number }>(
    'knowledgeLinks:lessons',
    null,
    () => new DataLoader((ids) => ctx.services.lessons.links(ctx.tenantId, ids)),
  );
}
