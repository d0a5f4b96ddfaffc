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

@ObjectType({ description: 'One token a model produced while an agent worked on a step.' })
export class StepToken {
  @Field(() => ID)
  taskId!: string;

  @Field(() => ID)
  runId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => String, { description: 'planning, execution, extraction, synthesis or chat.' })
  purpose!: string;

  @Field(() => String)
  token!: string;
}
