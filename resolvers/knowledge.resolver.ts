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
} from 'type-graphql';
import { Agent } from '../schema/agent.type.js';
import { pageInput, toConnection } from '../schema/connection.type.js';
import { ListOrder, Role } from '../schema/enums.js';
import {
  KnowledgeFilter,
  RecordKnowledgeInput,
  UpdateKnowledgeInput,
} from '../schema/knowledge.input.js';
import { Knowledge, KnowledgeConnection, KnowledgeHit } from '../schema/knowledge.type.js';
import { Task } from '../schema/task.type.js';
import { PageArgs } from '../schema/page.args.js';
import type { AppContext } from '../src/server/context.js';
import { LIMITS } from '../src/domain/validate.js';
import { orderToSort, withoutNulls } from './args.js';

@Authorized(Role.VIEWER)
@Resolver(() => Knowledge)
export class KnowledgeResolver {
  @Query(() => Knowledge, { description: 'One knowledge item; NOT_FOUND when unknown.' })
  knowledge(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Knowledge> {
    return ctx.loaders.knowledge.load(id);
  }

  @Query(() => KnowledgeConnection)
  async knowledgeItems(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => KnowledgeFilter, { nullable: true }) filter?: KnowledgeFilter | null,
    @Arg('orderBy', () => ListOrder, { defaultValue: ListOrder.CREATED_ASC })
    orderBy?: ListOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<KnowledgeConnection> {
    const page = await ctx.services.knowledge.list(
      ctx.tenantId,
      withoutNulls(filter),
      orderToSort(orderBy ?? ListOrder.CREATED_ASC),
      pageInput(args, info),
    );
    return toConnection(page);
  }

  @Query(() => [KnowledgeHit], {
    description: `Full-text search over content and tags, best first. The query is taken literally (no Lucene syntax); 1 to ${LIMITS.search} characters.`,
  })
  searchKnowledge(
    @Arg('query', () => String) query: string,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { defaultValue: 10, description: '1 to 100.' }) first: number,
  ): Promise<KnowledgeHit[]> {
    return ctx.services.knowledge.search(ctx.tenantId, query, first);
  }

  @FieldResolver(() => Agent, { nullable: true, description: 'The agent that contributed it.' })
  async contributedBy(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<Agent | null> {
    const [links] = await ctx.loaders.knowledgeLinks.load(k.id);
    return links?.agentId ? ctx.loaders.agent.load(links.agentId) : null;
  }

  @FieldResolver(() => Task, { nullable: true, description: 'The task it was learned from.' })
  async source(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<Task | null> {
    const [links] = await ctx.loaders.knowledgeLinks.load(k.id);
    return links?.taskId ? ctx.loaders.task.load(links.taskId) : null;
  }

  @FieldResolver(() => Knowledge, { nullable: true, description: 'The older item it replaces.' })
  async supersedes(@Root() k: Knowledge, @Ctx() ctx: AppContext): Promise<Knowledge | null> {
    const [links] = await ctx.loaders.knowledgeLinks.load(k.id);
    return links?.supersedesId ? ctx.loaders.knowledge.load(links.supersedesId) : null;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Knowledge)
  async recordKnowledge(
    @Arg('input', () => RecordKnowledgeInput) input: RecordKnowledgeInput,
    @Ctx() ctx: AppContext,
  ): Promise<Knowledge> {
    const [item] = await ctx.services.knowledge.record(ctx.tenantId, [input]);
    return item!;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => [Knowledge], {
    description: 'Records up to 100 items in one transaction, all or nothing.',
  })
  recordKnowledgeBatch(
    @Arg('inputs', () => [RecordKnowledgeInput]) inputs: RecordKnowledgeInput[],
    @Ctx() ctx: AppContext,
  ): Promise<Knowledge[]> {
    return ctx.services.knowledge.record(ctx.tenantId, inputs);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Knowledge, { description: 'Omitted fields stay; NOT_FOUND when unknown.' })
  updateKnowledge(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateKnowledgeInput) input: UpdateKnowledgeInput,
    @Ctx() ctx: AppContext,
  ): Promise<Knowledge> {
    return ctx.services.knowledge.update(ctx.tenantId, id, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => ID, { description: 'Deletes the item and its edges; returns its id.' })
  deleteKnowledge(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<string> {
    return ctx.services.knowledge.delete(ctx.tenantId, id);
  }
}
