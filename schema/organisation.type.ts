import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'What importing an organisation document did.' })
export class ImportResult {
  @Field(() => Int)
  nodesCreated!: number;

  @Field(() => Int, { description: 'Existing nodes of this organisation updated (merge only).' })
  nodesUpdated!: number;

  @Field(() => Int, {
    description: 'Relationships created (with merge, existing ones are updated).',
  })
  relationshipsCreated!: number;
}

@ObjectType({ description: 'What deleting an organisation did.' })
export class DeleteOrganisationResult {
  @Field(() => Int)
  nodesDeleted!: number;
}
