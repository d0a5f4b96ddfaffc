import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType({
  description: 'Anything with a global id; fetch any of them with node(id).',
  resolveType: (value: { __typename?: string }) => value.__typename,
})
export abstract class Node {
  @Field(() => ID)
  id!: string;
}
