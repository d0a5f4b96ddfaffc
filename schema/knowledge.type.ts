import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import { KnowledgeKind } from './enums.js';
import { Node } from './node.type.js';

@ObjectType({
  implements: Node,
  description: 'Something the organisation learned, with its provenance.',
})
export class Knowledge extends Node {
  @Field(() => KnowledgeKind)
  kind!: KnowledgeKind;

  @Field(() => String)
  content!: string;

  @Field(() => Float, { description: 'How sure the contributor is, 0 to 1.' })
  confidence!: number;

  @Field(() => [String])
  tags!: string[];

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType()
export class KnowledgeConnection extends Connection(Knowledge) {}

@ObjectType({ description: 'A full-text search hit.' })
export class KnowledgeHit {
  @Field(() => Float, { description: 'Relevance; higher is better. Hits come best first.' })
  score!: number;

  @Field(() => Knowledge)
  knowledge!: Knowledge;
}
