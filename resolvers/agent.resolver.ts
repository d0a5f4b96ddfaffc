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
import { tenantEvents } from '../subscriptions/pubsub.js';
import { TOPICS, type AgentStatusChangedEvent } from '../subscriptions/topics.js';
import {
  Agent,
  AgentCapability,
  AgentConnection,
  AgentStatusChange,
  DeleteAgentResult,
} from '../schema/agent.type.js';
import { AgentFilter, CreateAgentInput, UpdateAgentInput } from '../schema/agent.input.js';
import { pageInput, toConnection } from '../schema/connection.type.js';
import { AgentOrder, AgentStatus, Role } from '../schema/enums.js';
import { PageArgs } from '../schema/page.args.js';
import type { AppContext } from '../src/server/context.js';
import { orderToSort, RESUME_AFTER, withoutNulls } from './args.js';
import { agentListAhead, answerAgentFields, selectedCounters } from './agent-lookahead.js';
import { selectedFields } from './selection.js';

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentResolver {
  @Query(() => Agent, { description: 'One agent; NOT_FOUND when unknown.' })
  agent(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Agent> {
    return ctx.loaders.agent.load(id);
  }

  @Query(() => AgentConnection)
  async agents(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => AgentFilter, { nullable: true }) filter?: AgentFilter | null,
    @Arg('orderBy', () => AgentOrder, { defaultValue: AgentOrder.CREATED_ASC })
    orderBy?: AgentOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<AgentConnection> {
    // The items' capabilities and tasks are read with the page when selected (issue 15).
    const ahead = agentListAhead(info);
    const page = await ctx.services.agents.list(
      ctx.tenantId,
      withoutNulls(filter),
      orderToSort(orderBy ?? AgentOrder.CREATED_ASC),
      pageInput(args, info),
      ahead,
    );
    answerAgentFields(
      page.items.map((e) => e.node),
      page.related,
    );
    return toConnection(page);
  }

  @FieldResolver(() => [AgentCapability])
  capabilities(
    @Root() agent: Agent,
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<AgentCapability[]> {
    return ctx.loaders.capabilities(selectedCounters(selectedFields(info))).load(agent.id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Agent)
  async createAgent(
    @Arg('input', () => CreateAgentInput) input: CreateAgentInput,
    @Ctx() ctx: AppContext,
  ): Promise<Agent> {
    const [agent] = await ctx.services.agents.createMany(ctx.tenantId, [input], ctx.actor);
    return agent!;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => [Agent], { description: 'Creates up to 100 agents in one transaction.' })
  createAgents(
    @Arg('inputs', () => [CreateAgentInput]) inputs: CreateAgentInput[],
    @Ctx() ctx: AppContext,
  ): Promise<Agent[]> {
    return ctx.services.agents.createMany(ctx.tenantId, inputs, ctx.actor);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Agent)
  updateAgent(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateAgentInput) input: UpdateAgentInput,
    @Ctx() ctx: AppContext,
  ): Promise<Agent> {
    return ctx.services.agents.update(ctx.tenantId, id, input, ctx.actor);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Agent, { description: 'Follows the transition table; BAD_USER_INPUT otherwise.' })
  setAgentStatus(
    @Arg('id', () => ID) id: string,
    @Arg('status', () => AgentStatus) status: AgentStatus,
    @Ctx() ctx: AppContext,
  ): Promise<Agent> {
    return ctx.services.agents.setStatus(ctx.tenantId, id, status);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Agent, { description: 'Lets the agent take work again (OFFLINE becomes IDLE).' })
  activateAgent(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Agent> {
    return ctx.services.agents.activate(ctx.tenantId, id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Agent, { description: 'Stops new work for the agent and sets it OFFLINE.' })
  deactivateAgent(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Agent> {
    return ctx.services.agents.deactivate(ctx.tenantId, id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => DeleteAgentResult, {
    description:
      'Deletes the agent. Refused with CONFLICT while it holds unfinished tasks, unless reassignTo names an agent to take them.',
  })
  async deleteAgent(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: AppContext,
    @Arg('reassignTo', () => ID, { nullable: true }) reassignTo?: string | null,
  ): Promise<DeleteAgentResult> {
    const moved = await ctx.services.agents.delete(ctx.tenantId, id, reassignTo);
    return { id, reassignedTaskIds: moved };
  }

  @Subscription(() => AgentStatusChange, {
    topics: TOPICS.agentStatusChanged,
    // type-graphql hands topicId to PubSub.subscribe: filtered as events fan out, unbuffered.
    topicId: ({ args, context }) =>
      tenantEvents<AgentStatusChangedEvent>(
        (context as AppContext).tenantId,
        (e) => !args.agentId || e.agent.id === args.agentId,
        (args as { after?: string | null }).after,
      ),
    description: 'Status changes of every agent, or of one agent.',
  })
  agentStatusChanged(
    @Root() event: AgentStatusChangedEvent,
    @Arg('agentId', () => ID, { nullable: true }) _agentId?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): AgentStatusChange {
    return { agent: event.agent, previousStatus: event.previousStatus };
  }
}
