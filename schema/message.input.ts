import { Field, ID, InputType } from 'type-graphql';
import { MessageKind } from './enums.js';

@InputType({
  description:
    'One message. Give toAgentIds (1 to 100 agents) or broadcast: true, not both. Without conversationId a new conversation is started.',
})
export class SendMessageInput {
  @Field(() => String, { description: '1 to 20000 characters, trimmed.' })
  content!: string;

  @Field(() => MessageKind, { defaultValue: MessageKind.CHAT })
  kind?: MessageKind;

  @Field(() => ID, {
    nullable: true,
    description: 'The sending agent; without it the acting user sends.',
  })
  fromAgentId?: string | null;

  @Field(() => [ID], { nullable: true })
  toAgentIds?: string[] | null;

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Send to every agent of the organisation.',
  })
  broadcast?: boolean;

  @Field(() => ID, { nullable: true, description: 'The task the message is about.' })
  aboutTaskId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Add to this conversation.' })
  conversationId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Title of the new conversation; only without conversationId.',
  })
  conversationTitle?: string | null;
}

@InputType()
export class MessageFilter {
  @Field(() => MessageKind, { nullable: true })
  kind?: MessageKind | null;

  @Field(() => ID, {
    nullable: true,
    description: 'Sent by or to this agent; broadcasts since the agent was created included.',
  })
  agentId?: string | null;

  @Field(() => ID, { nullable: true })
  conversationId?: string | null;

  @Field(() => ID, { nullable: true })
  aboutTaskId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Words that must all occur in the content (full-text).',
  })
  text?: string | null;
}
