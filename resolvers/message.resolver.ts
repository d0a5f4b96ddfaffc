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
import { TOPICS, type MessageSentEvent } from '../subscriptions/topics.js';
import { Agent } from '../schema/agent.type.js';
import { pageInput, toConnection } from '../schema/connection.type.js';
import { ListOrder, MessageKind, Role } from '../schema/enums.js';
import { MessageFilter, SendMessageInput } from '../schema/message.input.js';
import {
  Conversation,
  ConversationConnection,
  Message,
  MessageConnection,
} from '../schema/message.type.js';
import { Task } from '../schema/task.type.js';
import { PageArgs } from '../schema/page.args.js';
import type { AppContext } from '../src/server/context.js';
import { seqPageRequest } from '../src/domain/message.js';
import { pageSize } from '../src/domain/page.js';
import { orderToSort, RESUME_AFTER, withoutNulls } from './args.js';

@Authorized(Role.VIEWER)
@Resolver(() => Message)
export class MessageResolver {
  @Query(() => Message, { description: 'One message; NOT_FOUND when unknown.' })
  message(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Message> {
    return ctx.loaders.messages.message.load(id);
  }

  @Query(() => MessageConnection)
  async messages(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => MessageFilter, { nullable: true }) filter?: MessageFilter | null,
    @Arg('orderBy', () => ListOrder, { defaultValue: ListOrder.CREATED_ASC })
    orderBy?: ListOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<MessageConnection> {
    const page = await ctx.services.messages.list(
      ctx.tenantId,
      withoutNulls(filter),
      orderToSort(orderBy ?? ListOrder.CREATED_ASC),
      pageInput(args, info),
    );
    return toConnection(page);
  }

  @FieldResolver(() => Agent, { nullable: true, description: 'The sending agent, if any.' })
  async from(@Root() message: Message, @Ctx() ctx: AppContext): Promise<Agent | null> {
    const { senderAgentId } = await ctx.loaders.messages.links.load(message.id);
    return senderAgentId ? ctx.loaders.agent.load(senderAgentId) : null;
  }

  @FieldResolver(() => [Agent], { description: 'The named recipients; empty for a broadcast.' })
  async to(@Root() message: Message, @Ctx() ctx: AppContext): Promise<Agent[]> {
    return (await ctx.loaders.messages.recipients.load(message.id)).map((r) => r.agent);
  }

  @FieldResolver(() => Task, { nullable: true, description: 'The task it is about, if any.' })
  async about(@Root() message: Message, @Ctx() ctx: AppContext): Promise<Task | null> {
    const { aboutTaskId } = await ctx.loaders.messages.links.load(message.id);
    return aboutTaskId ? ctx.loaders.task.load(aboutTaskId) : null;
  }

  @FieldResolver(() => Conversation)
  conversation(@Root() message: Message, @Ctx() ctx: AppContext): Promise<Conversation> {
    return ctx.loaders.messages.conversation.load(message.conversationId);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Message, {
    description: 'Sends one message; without conversationId it starts a conversation.',
  })
  async sendMessage(
    @Arg('input', () => SendMessageInput) input: SendMessageInput,
    @Ctx() ctx: AppContext,
  ): Promise<Message> {
    const [message] = await ctx.services.messages.sendMany(ctx.tenantId, ctx.actor, [input]);
    return message!;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => [Message], {
    description: 'Sends up to 100 messages in one transaction, all or nothing, in order.',
  })
  sendMessages(
    @Arg('inputs', () => [SendMessageInput]) inputs: SendMessageInput[],
    @Ctx() ctx: AppContext,
  ): Promise<Message[]> {
    return ctx.services.messages.sendMany(ctx.tenantId, ctx.actor, inputs);
  }

  @Subscription(() => Message, {
    topics: TOPICS.messageSent,
    // type-graphql hands topicId to PubSub.subscribe: filtered as events fan out, unbuffered.
    topicId: ({ args, context }) => {
      const { agentId, conversationId } = args as { agentId?: string; conversationId?: string };
      return tenantEvents<MessageSentEvent>(
        (context as AppContext).tenantId,
        (event) =>
          (!agentId || event.message.broadcast || event.recipientIds.includes(agentId)) &&
          (!conversationId || event.message.conversationId === conversationId),
        (args as { after?: string | null }).after,
      );
    },
    description:
      'Messages as they are committed: all of them, those sent to one agent (broadcasts included), or those of one conversation.',
  })
  messageSent(
    @Root() event: MessageSentEvent,
    @Arg('agentId', () => ID, { nullable: true }) _agentId?: string | null,
    @Arg('conversationId', () => ID, { nullable: true }) _conversationId?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): Message {
    return event.message;
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Conversation)
export class ConversationResolver {
  @Query(() => Conversation, { description: 'One conversation; NOT_FOUND when unknown.' })
  conversation(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Conversation> {
    return ctx.loaders.messages.conversation.load(id);
  }

  @Query(() => ConversationConnection)
  async conversations(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('orderBy', () => ListOrder, { defaultValue: ListOrder.CREATED_ASC })
    orderBy?: ListOrder,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<ConversationConnection> {
    const page = await ctx.services.messages.listConversations(
      ctx.tenantId,
      orderToSort(orderBy ?? ListOrder.CREATED_ASC),
      pageInput(args, info),
    );
    return toConnection(page);
  }

  @FieldResolver(() => MessageConnection, { description: 'Its messages in seq order.' })
  async messages(
    @Root() conversation: Conversation,
    @Ctx() ctx: AppContext,
    @Args(() => PageArgs) { first, after }: PageArgs = {},
  ): Promise<MessageConnection> {
    const page = seqPageRequest(conversation.id, first, after);
    const loader = ctx.loaders.keyed('conversationMessages', page, () =>
      ctx.loaders.messages.conversationPages(page),
    );
    const found = await loader.load(conversation.id);
    return toConnection({ ...found, totalCount: conversation.messageCount });
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Conversation, { description: 'Starts an empty conversation.' })
  createConversation(
    @Ctx() ctx: AppContext,
    @Arg('title', () => String, { nullable: true }) title?: string | null,
  ): Promise<Conversation> {
    return ctx.services.messages.createConversation(ctx.tenantId, title);
  }
}

@Authorized(Role.VIEWER)
@Resolver(() => Agent)
export class AgentMessagesResolver {
  @FieldResolver(() => [Message], {
    description:
      'Messages the agent sent or received (broadcasts since it was created included), newest first.',
  })
  async messages(
    @Root() agent: Agent,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 100.' }) first?: number,
    @Arg('kind', () => MessageKind, { nullable: true }) kind?: MessageKind | null,
  ): Promise<Message[]> {
    const limit = pageSize(first ?? 20);
    const loader = ctx.loaders.keyed('agentMessages', [limit, kind ?? null], () =>
      ctx.loaders.messages.ofAgents(limit, kind ?? null),
    );
    return (await loader.load(agent.id)).map((r) => r.message);
  }
}
