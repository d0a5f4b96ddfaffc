import { Field, Float, ObjectType } from 'type-graphql';
import { Node } from './node.type.js';

@ObjectType({ description: 'A full-text match: a Task, Message or Knowledge.' })
export class SearchHit {
  @Field(() => Float, { description: 'Relevance; higher is better.' })
  score!: number;

  @Field(() => Node)
  node!: Node;
}
