import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A node id of an imported document and the id it was stored under.' })
export class RemintedId {
  @Field(() => String, { description: 'The id in the document.' })
  documentId!: string;

  @Field(() => ID, { description: 'The id of the node in this organisation.' })
  id!: string;
}

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

  @Field(() => [RemintedId], {
    description:
      "Document ids stored under new ids: every id that is not this organisation's, unless the document is this organisation's own signed export and the id is free. Relationships of the document follow their nodes.",
  })
  remintedIds!: RemintedId[];
}

@ObjectType({ description: 'What deleting an organisation did.' })
export class DeleteOrganisationResult {
  @Field(() => Int)
  nodesDeleted!: number;
}
