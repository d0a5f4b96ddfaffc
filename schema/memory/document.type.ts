import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { Connection } from '../connection.type.js';

/** Where a document's ingestion stands (the lowest state of its chunk episodes). */
export enum DocumentStatus {
  INGESTING = 'INGESTING',
  INGESTED = 'INGESTED',
  FAILED = 'FAILED',
}
registerEnumType(DocumentStatus, {
  name: 'DocumentStatus',
  description:
    'INGESTING until every chunk is ingested or failed; then INGESTED, or FAILED if any chunk failed.',
});

@ObjectType({
  description:
    'An uploaded or ingested document (POST /documents, ingestDocument): its text was cut into chunks, one DOCUMENT_CHUNK episode each, which memory ingests in the background.',
})
export class Document {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String, { description: 'text/plain, text/markdown or application/pdf.' })
  mime!: string;

  @Field(() => Int, { description: 'Size of the file (or UTF-8 text) as received.' })
  bytes!: number;

  @Field(() => Int, { description: 'How many chunk episodes it made.' })
  chunks!: number;

  @Field(() => DocumentStatus)
  status!: DocumentStatus;

  @Field(() => Int, {
    description:
      'How many uploads of its text it stands for. The same text sent again (after line endings, trailing spaces and blank lines are evened out) returns this document with uploads raised by one, queueing nothing but its FAILED chunks (taken back as retryEpisodes does): an upload that answers more than 1 found it already there.',
  })
  uploads!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}

@ObjectType()
export class DocumentConnection extends Connection(Document) {}

@ObjectType({ description: 'How far a document’s ingestion got, after each chunk commits.' })
export class DocumentProgress {
  @Field(() => ID)
  documentId!: string;

  @Field(() => Int)
  chunks!: number;

  @Field(() => Int, { description: 'Chunks ingested so far.' })
  ingested!: number;

  @Field(() => Int, { description: 'Chunks whose ingestion failed so far.' })
  failed!: number;

  @Field(() => DocumentStatus)
  status!: DocumentStatus;
}
