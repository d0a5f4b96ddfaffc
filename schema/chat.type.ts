import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Message } from './message.type.js';

@ObjectType({
  description:
    'A chat turn as answered at once: the person’s stored message; the agent’s reply streams on chatTokens and is then stored as message replyId.',
})
export class ChatReply {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => Message, { description: 'The person’s message, as stored.' })
  message!: Message;

  @Field(() => ID, {
    description:
      'The id the reply is stored under when done (announced on messageSent); its tokens stream on chatTokens first.',
  })
  replyId!: string;
}

@ObjectType({ description: 'One token of a streaming chat reply.' })
export class ChatToken {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => ID, { description: 'The message the reply is stored as once done.' })
  replyId!: string;

  @Field(() => String)
  token!: string;

  @Field(() => Int, {
    description: '0, 1, ... in order; -1 on the closing event of a failed reply.',
  })
  index!: number;

  @Field(() => Boolean, { description: 'True on the last event of a reply (its token is empty).' })
  done!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Why the reply failed, on its closing event (nothing is stored then); else null.',
  })
  error!: string | null;
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
