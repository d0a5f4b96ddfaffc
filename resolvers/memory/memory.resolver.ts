import type { GraphQLResolveInfo } from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
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
} from 'type-graphql';
import { pageInput, toConnection } from '../../schema/connection.type.js';
import { ListOrder, Role } from '../../schema/enums.js';
import { EntityOrder, EpisodeKind } from '../../schema/memory/enums.js';
import { EntityFilter, EpisodeFilter, FactFilter } from '../../schema/memory/memory.input.js';
import {
  Entity,
  EntityConnection,
  EntityNeighbour,
  Episode,
  EpisodeConnection,
  EpisodeRetention,
  Fact,
  FactConnection,
} from '../../schema/memory/memory.type.js';
import { PageArgs } from '../../schema/page.args.js';
import { isCurrent } from '../../src/domain/memory.js';
import { pageSize } from '../../src/domain/page.js';
import type { AppContext } from '../../src/server/context.js';
import { loadOrNull } from '../../src/loaders/loaders.js';
import { keyView } from '../../src/memory/view.js';
import { RETRY_ALL_MOST } from '../../src/memory/memory.service.js';
import { LIMITS } from '../../src/domain/validate.js';
import { orderToSort, withoutNulls } from '../args.js';

/** What every memory read says of private memory (keyView: searchMemory's rule). */
const PRIVATE =
  "agent- and task-private memory, and what was learned only from it, needs an ADMIN key; other keys see the tenant's shared memory";

const asIso = (d: Date | string | null | undefined) =>
  d === null || d === undefined ? null : new Date(d).toISOString();

@Authorized(Role.VIEWER)
@Resolver(() => Entity)
export class EntityResolver {
  @Query(() => Entity, {
    description: `One entity of memory; NOT_FOUND when unknown or not shared (${PRIVATE}).`,
  })
  entity(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Entity> {
    return ctx.loaders.memory.entity.load(id);
  }

  @Query(() => EntityConnection, {
    description: `Entities, without merged ones by default (${PRIVATE}).`,
  })
  async entities(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => EntityFilter, { nullable: true }) filter?: EntityFilter | null,
    @Arg('orderBy', () => EntityOrder, { defaultValue: EntityOrder.CREATED_ASC })
    orderBy?: EntityOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<EntityConnection> {
    const page = await ctx.services.memory.entities(
      ctx.tenantId,
      withoutNulls(filter),
      orderToSort(orderBy ?? EntityOrder.CREATED_ASC),
      pageInput(args, info),
      keyView(ctx.principal),
    );
    return toConnection(page);
  }

  @FieldResolver(() => [Fact], {
    description:
      'Facts with this entity at either end that the key may see, newest first: the current ones; with `past`, the ended ones; with `asOf`, those valid and known then.',
  })
  facts(
    @Root() entity: Entity,
    @Ctx() ctx: AppContext,
    @Arg('asOf', () => DateTimeISOResolver, { nullable: true }) asOf?: Date | null,
    @Arg('past', () => Boolean, { defaultValue: false }) past?: boolean,
    @Arg('first', () => Int, { defaultValue: 50, description: '1 to 100.' }) first?: number,
  ): Promise<Fact[]> {
    return ctx.services.memory.factsOfEntity(
      ctx.tenantId,
      entity.id,
      { asOf: asIso(asOf), past: past ?? false },
      pageSize(first),
      keyView(ctx.principal),
    );
  }

  @FieldResolver(() => [EntityNeighbour], {
    description: 'Entities one current fact away (those the key may see, over facts it may see).',
  })
  neighbours(
    @Root() entity: Entity,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 100.' }) first?: number,
  ): Promise<EntityNeighbour[]> {
    const view = keyView(ctx.principal);
    return ctx.services.memory.neighbours(ctx.tenantId, entity.id, pageSize(first), view);
  }

  @FieldResolver(() => EpisodeConnection, {
    description: 'The episodes that mention it (those the key may see).',
  })
  async episodes(
    @Root() entity: Entity,
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<EpisodeConnection> {
    const page = await ctx.services.memory.episodes(
      ctx.tenantId,
      { entityId: entity.id },
      orderToSort(ListOrder.CREATED_ASC),
      pageInput(args, info),
      keyView(ctx.principal),
    );
    return toConnection(page);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Entity, {
    description:
      'Merges the entities `ids` into `intoId`: their facts, mentions and names move to it, recorded as MERGED_INTO with the reason; unmergeEntity undoes it.',
  })
  mergeEntities(
    @Arg('intoId', () => ID) intoId: string,
    @Arg('ids', () => [ID]) ids: string[],
    @Ctx() ctx: AppContext,
    @Arg('reason', () => String, { nullable: true }) reason?: string | null,
  ): Promise<Entity> {
    const view = keyView(ctx.principal);
    return ctx.services.memory.merge(ctx.tenantId, intoId, ids, reason, ctx.actor, view);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Entity, { description: 'Undoes a merge: the entity stands alone again.' })
  unmergeEntity(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Entity> {
    return ctx.services.memory.unmerge(ctx.tenantId, id, keyView(ctx.principal));
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Fact)
export class FactResolver {
  @Query(() => FactConnection, {
    description: `Facts: the current ones, or with \`asOf\` those valid in the world and known to the platform at that time (${PRIVATE}).`,
  })
  async facts(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => FactFilter, { nullable: true }) filter?: FactFilter | null,
    @Arg('asOf', () => DateTimeISOResolver, { nullable: true }) asOf?: Date | null,
    @Arg('orderBy', () => ListOrder, { defaultValue: ListOrder.CREATED_ASC }) orderBy?: ListOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<FactConnection> {
    const page = await ctx.services.memory.facts(
      ctx.tenantId,
      { ...withoutNulls(filter), asOf: asIso(asOf) },
      orderToSort(orderBy ?? ListOrder.CREATED_ASC),
      pageInput(args, info),
      keyView(ctx.principal),
    );
    return toConnection(page);
  }

  @FieldResolver(() => Boolean, { description: 'Neither ended in the world nor expired.' })
  current(@Root() fact: Fact): boolean {
    return isCurrent(fact);
  }

  @FieldResolver(() => Entity)
  subject(@Root() fact: Fact, @Ctx() ctx: AppContext): Promise<Entity> {
    return ctx.loaders.memory.entity.load(fact.subjectId);
  }

  @FieldResolver(() => Entity, {
    nullable: true,
    description: 'Null when the value is a literal (or names an entity the key may not see).',
  })
  object(@Root() fact: Fact, @Ctx() ctx: AppContext): Promise<Entity | null> | null {
    return fact.objectId ? loadOrNull(ctx.loaders.memory.entity, fact.objectId) : null;
  }

  @FieldResolver(() => Fact, {
    nullable: true,
    description: 'The fact that ended this one (null when the key may not see it).',
  })
  replacedBy(@Root() fact: Fact, @Ctx() ctx: AppContext): Promise<Fact | null> | null {
    return fact.replacedById ? loadOrNull(ctx.loaders.memory.fact, fact.replacedById) : null;
  }

  @FieldResolver(() => [Episode], {
    description: 'The episodes it was learned from (those the key may see).',
  })
  async episodes(@Root() fact: Fact, @Ctx() ctx: AppContext): Promise<Episode[]> {
    const rows = await ctx.loaders.memory.factEpisodes.load(fact.id);
    return rows.map((r) => r.episode);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Episode)
export class EpisodeResolver {
  @Query(() => Episode, {
    description: `One episode; NOT_FOUND when unknown or not shared (${PRIVATE}).`,
  })
  episode(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Episode> {
    return ctx.loaders.memory.episode.load(id);
  }

  @Query(() => EpisodeConnection, { description: `Episodes (${PRIVATE}).` })
  async episodes(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => EpisodeFilter, { nullable: true }) filter?: EpisodeFilter | null,
    @Arg('orderBy', () => ListOrder, { defaultValue: ListOrder.CREATED_ASC }) orderBy?: ListOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<EpisodeConnection> {
    const page = await ctx.services.memory.episodes(
      ctx.tenantId,
      withoutNulls(filter),
      orderToSort(orderBy ?? ListOrder.CREATED_ASC),
      pageInput(args, info),
      keyView(ctx.principal),
    );
    return toConnection(page);
  }

  @FieldResolver(() => [Entity], {
    description: 'The entities it mentions (those the key may see).',
  })
  async entities(@Root() episode: Episode, @Ctx() ctx: AppContext): Promise<Entity[]> {
    const rows = await ctx.loaders.memory.episodeEntities.load(episode.id);
    return rows.map((r) => r.entity);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => [Episode], {
    description:
      'Takes FAILED episodes back to PENDING for ingestion, attempts from 0 (after an outage of ' +
      'the model or the embeddings endpoint); their documents are INGESTING again. `ids`: 1 to ' +
      `${LIMITS.batch} episodes, all or nothing (NOT_FOUND for one unknown or not shared, ` +
      'BAD_USER_INPUT for one not FAILED); without ids, the oldest ' +
      `${RETRY_ALL_MOST} FAILED episodes the key may see (${PRIVATE}). ` +
      'LIMIT_EXCEEDED, nothing taken back, when they would pass TENANT_MAX_PENDING_EPISODES. ' +
      'Returns the episodes taken back, oldest first.',
  })
  retryEpisodes(
    @Ctx() ctx: AppContext,
    @Arg('ids', () => [ID], { nullable: true }) ids?: string[] | null,
  ): Promise<Episode[]> {
    return ctx.services.memory.retryEpisodes(ctx.tenantId, ids ?? null, keyView(ctx.principal));
  }

  @Authorized(Role.ADMIN)
  @Query(() => [EpisodeRetention], { description: 'The retention rules of the tenant.' })
  episodeRetention(@Ctx() ctx: AppContext): Promise<EpisodeRetention[]> {
    return ctx.services.memory.retention(ctx.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => [EpisodeRetention], {
    description:
      'Sets the retention rule for episodes of `kind`: ingested ones older than `days` are forgotten (applied at start and hourly; their entities and facts stay). `days: null` removes the rule. Returns every rule.',
  })
  setEpisodeRetention(
    @Arg('kind', () => EpisodeKind) kind: EpisodeKind,
    @Arg('days', () => Int, { nullable: true }) days: number | null,
    @Ctx() ctx: AppContext,
  ): Promise<EpisodeRetention[]> {
    return ctx.services.memory.setRetention(ctx.tenantId, kind, days ?? null);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Int, {
    description:
      'Retention: deletes ingested episodes of `kind` that happened more than `olderThanDays` ago; the entities and facts learned from them stay. Returns how many were deleted.',
  })
  forgetEpisodes(
    @Arg('kind', () => EpisodeKind) kind: EpisodeKind,
    @Arg('olderThanDays', () => Int) olderThanDays: number,
    @Ctx() ctx: AppContext,
  ): Promise<number> {
    return ctx.services.memory.forgetEpisodes(ctx.tenantId, kind, olderThanDays);
  }
}
