import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import { MessageKind } from './enums.js';
import { Node } from './node.type.js';

@ObjectType({
  implements: Node,
  description:
    'A message from an agent or a user to agents (or to every agent, as a broadcast), in a conversation.',
})
export class Message extends Node {
  @Field(() => MessageKind)
  kind!: MessageKind;

  @Field(() => String)
  content!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The user who sent it; null when an agent did (see `from`).',
  })
  senderUser!: string | null;

  @Field(() => Boolean, {
    description: 'Sent to every agent of the organisation; `to` is then empty.',
  })
  broadcast!: boolean;

  @Field(() => Int, { description: 'Position in its conversation, from 1: the stable order.' })
  seq!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  /** Not a field: `conversation` resolves it. */
  conversationId!: string;
}

@ObjectType({ implements: Node, description: 'An ordered thread of messages.' })
export class Conversation extends Node {
  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => Int)
  messageCount!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver, { description: 'When the last message arrived.' })
  updatedAt!: string;
}

@ObjectType()
export class MessageConnection extends Connection(Message) {}

@ObjectType()
export class ConversationConnection extends Connection(Conversation) {}
