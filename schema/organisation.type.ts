import { Field, ID, Int, ObjectType } from 'type-graphql';

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

  @Field(() => [ID], {
    description:
      "The id each node of the document was stored under, in document order: its own id when it is this organisation's, or when the document is this organisation's own signed export and the id is free; else a new one. Relationships of the document follow their nodes.",
  })
  nodeIds!: string[];

  @Field(() => [Int], {
    description:
      "Positions in the document (nodes[i]) of tasks that had finished in this organisation (COMPLETED, FAILED, CANCELLED or SKIPPED): a merge keeps them as they are, without the document's properties, so it never rewrites what a task did (retryTask reopens a FAILED or CANCELLED one). Empty without merge.",
  })
  finishedTasksKept!: number[];
}

@ObjectType({ description: 'What deleting an organisation did.' })
export class DeleteOrganisationResult {
  @Field(() => Int)
  nodesDeleted!: number;
}
