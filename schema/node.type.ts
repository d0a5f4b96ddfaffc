import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * A node's type is its `__typename` (graph/node.repository.ts sets it). buildAppSchema leaves
 * the type to graphql's default resolver, which reads it at once: type-graphql would wrap this
 * in an async function, which compiled queries (src/server/compiled-execution.ts) cannot await.
 */
@InterfaceType({ description: 'Anything with a global id; fetch any of them with node(id).' })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}
