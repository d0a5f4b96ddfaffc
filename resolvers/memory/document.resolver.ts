import type { GraphQLResolveInfo } from 'graphql';
import { RESUME_AFTER, withoutNulls } from '../args.js';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { pageInput, toConnection } from '../../schema/connection.type.js';
import { Role } from '../../schema/enums.js';
import { DocumentFilter } from '../../schema/memory/document.input.js';
import {
  Document,
  DocumentConnection,
  DocumentProgress,
  DocumentStatus,
} from '../../schema/memory/document.type.js';
import { PageArgs } from '../../schema/page.args.js';
import { EpisodeStatus } from '../../src/domain/memory.js';
import type { AppContext } from '../../src/server/context.js';
import type { MemoryDocument } from '../../src/domain/memory.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { UnsupportedTypeError } from '../../src/memory/documents/errors.js';
import { tenantEvents } from '../../subscriptions/pubsub.js';
import { TOPICS, type DocumentProgressEvent } from '../../subscriptions/topics.js';

/** Text types ingestDocument takes; PDFs are files, uploaded to POST /documents. */
const TEXT_TYPES = ['text/plain', 'text/markdown'];

const toDocument = (d: MemoryDocument): Document => ({
  id: d.id,
  title: d.title,
  mime: d.mime,
  bytes: d.bytes,
  chunks: d.chunks,
  status: toStatus(d.status),
  uploads: d.uploads,
  createdAt: d.createdAt,
});

/** A document is INGESTING while any chunk is still waiting (PENDING or INGESTING). */
const toStatus = (status: string): DocumentStatus =>
  status === 'INGESTED' || status === 'FAILED'
    ? (status as DocumentStatus)
    : DocumentStatus.INGESTING;

@Authorized(Role.VIEWER)
@Resolver(() => Document)
export class DocumentResolver {
  @Query(() => Document, { description: 'One document of the tenant; NOT_FOUND when unknown.' })
  async document(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Document> {
    const doc = await ctx.services.documents.byId(ctx.tenantId, id);
    if (!doc) throw new NotFoundError('Document', id);
    return toDocument(doc);
  }

  @Query(() => DocumentConnection, {
    description: 'The tenant’s documents (POST /documents, ingestDocument), newest first.',
  })
  async documents(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => DocumentFilter, { nullable: true }) filter?: DocumentFilter | null,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<DocumentConnection> {
    const { status } = withoutNulls(filter);
    const page = await ctx.services.documents.list(
      ctx.tenantId,
      { status: status && EpisodeStatus[status] },
      pageInput(args, info),
    );
    return toConnection(page, toDocument);
  }

  @FieldResolver(() => DocumentProgress, {
    description:
      'Its chunks ingested and failed so far (one count per document: ask for it on one document at a time).',
  })
  async progress(@Root() doc: Document, @Ctx() ctx: AppContext): Promise<DocumentProgress> {
    const counts = await ctx.services.documents.progress(ctx.tenantId, doc.id);
    return {
      documentId: doc.id,
      chunks: counts?.chunks ?? doc.chunks,
      ingested: counts?.ingested ?? 0,
      failed: counts?.failed ?? 0,
      status: doc.status,
    };
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Document, {
    description:
      'Stores a text or Markdown document and queues its chunks for memory (same limits as POST /documents: DOCUMENT_MAX_BYTES, DOCUMENT_MAX_CHUNKS). Watch it with documentProgress. Text the tenant already sent returns its document, uploads raised, and queues only its FAILED chunks again.',
  })
  async ingestDocument(
    @Arg('title', () => String) title: string,
    @Arg('text', () => String) text: string,
    @Arg('mime', () => String, {
      nullable: true,
      defaultValue: 'text/markdown',
      description: 'text/plain or text/markdown (null: text/markdown).',
    })
    mime: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Document> {
    mime ??= 'text/markdown';
    if (!TEXT_TYPES.includes(mime.split(';')[0]!.trim().toLowerCase())) {
      throw new UnsupportedTypeError(
        `ingestDocument takes ${TEXT_TYPES.join(' or ')} text, but got mime "${mime}"; upload PDFs as files to POST /documents`,
        { allowed: TEXT_TYPES, got: mime },
      );
    }
    const doc = await ctx.services.documents.ingest(ctx.tenantId, {
      title,
      mime,
      data: Buffer.from(text, 'utf8'),
    });
    return toDocument(doc);
  }

  @Subscription(() => DocumentProgress, {
    topics: TOPICS.documentProgress,
    // type-graphql hands topicId to PubSub.subscribe: filtered as events fan out, unbuffered.
    topicId: ({ args, context }) =>
      tenantEvents<DocumentProgressEvent>(
        (context as AppContext).tenantId,
        (e) => e.documentId === (args as { id: string }).id,
        (args as { after?: string | null }).after,
      ),
    description:
      'A document’s ingestion progress, after each of its chunks commits; the last event has status INGESTED or FAILED.',
  })
  documentProgress(
    @Root() event: DocumentProgressEvent,
    @Arg('id', () => ID) _id: string,
    @Arg('after', () => ID, { nullable: true, description: RESUME_AFTER }) _after?: string | null,
  ): DocumentProgress {
    return {
      documentId: event.documentId,
      chunks: event.chunks,
      ingested: event.ingested,
      failed: event.failed,
      status: event.status as DocumentStatus,
    };
  }
}
