import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Message } from './message.type.js';

@ObjectType({ description: 'An agent’s reply in a chat, and the conversation it belongs to.' })
export class ChatReply {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => Message)
  reply!: Message;
}

@ObjectType({ description: 'One token of a streaming chat reply.' })
export class ChatToken {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => String)
  token!: string;

  @Field(() => Int)
  index!: number;

  @Field(() => Boolean, { description: 'True on the last event of a reply (its token is empty).' })
  done!: boolean;
}
