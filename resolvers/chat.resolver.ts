import { RESUME_AFTER } from './args.js';
import { Arg, Authorized, Ctx, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { ChatReply, ChatToken, StepToken } from '../schema/chat.type.js';
import { Role } from '../schema/enums.js';
import type { AppContext } from '../src/server/context.js';
import { tenantEvents } from '../subscriptions/pubsub.js';
import { TOPICS, type ChatTokenEvent, type StepTokenEvent } from '../subscriptions/topics.js';

@Authorized(Role.VIEWER)
@Resolver()
export class ChatResolver {
  @Authorized(Role.OPERATOR)
  @Mutation(() => ChatReply, {
    description:
      'Talk to any agent. Without conversationId a new conversation starts. Answers as soon as the message is stored; the reply streams on chatTokens (subscribe first) and is then stored as message replyId.',
  })
  async chat(
    @Arg('agentId', () => ID) agentId: string,
    @Arg('message', () => String) message: string,
    @Ctx() ctx: AppContext,
    @Arg('conversationId', () => ID, { nullable: true }) conversationId?: string | null,
  ): Promise<ChatReply> {
    const turn = await ctx.services.chat.send(
      ctx.tenantId,
      ctx.actor,
      agentId,
      message,
      conversationId,
    );
    return { conversationId: turn.conversationId, message: turn.message, replyId: turn.replyId };
  }

  @Subscription(() => ChatToken, {
    topics: TOPICS.chatToken,
    // type-graphql hands topicId to PubSub.subscribe: filtered as events fan out, unbuffered.
    topicId: ({ args, context }) =>
      tenantEvents<ChatTokenEvent>(
        (context as AppContext).tenantId,
        (e) =>
          (!args.conversationId || e.conversationId === args.conversationId) &&
          (!args.agentId || e.agentId === args.agentId),
        (args as { after?: string | null }).after,
      ),
    description:
      'The tokens of agents’ chat replies as they are produced, for one conversation or agent.',
  })
  chatTokens(
    @Root() event: ChatTokenEvent,
    @Arg('conversationId', () => ID, { nullable: true }) _conversationId?: string | null,
    @Arg('agentId', () => ID, { nullable: true }) _agentId?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): ChatToken {
    return event;
  }

  @Subscription(() => StepToken, {
    topics: TOPICS.stepToken,
    topicId: ({ args, context }) =>
      tenantEvents<StepTokenEvent>(
        (context as AppContext).tenantId,
        (e) =>
          (!args.taskId || e.taskId === args.taskId || e.ancestorIds?.includes(args.taskId)) &&
          (!args.agentId || e.agentId === args.agentId),
        (args as { after?: string | null }).after,
      ),
    description: 'The tokens of the models while agents work on steps, for one task or agent.',
  })
  stepTokens(
    @Root() event: StepTokenEvent,
    @Arg('taskId', () => ID, {
      nullable: true,
      description: "A step's id, or a task's above its steps (the id submitTask gave).",
    })
    _taskId?: string | null,
    @Arg('agentId', () => ID, { nullable: true }) _agentId?: string | null,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): StepToken {
    return event;
  }
}
