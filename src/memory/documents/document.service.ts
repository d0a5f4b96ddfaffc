import { createHash } from 'node:crypto';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { BadInputError, LimitExceededError } from '../../domain/errors.js';
import { cleanName, plainName } from '../../domain/validate.js';
import type { MemoryDocument } from '../../domain/memory.js';
import {
  documentProgress,
  listDocuments,
  type DocumentFilter,
  type DocumentProgressCounts,
} from '../../../graph/memory/document.repository.js';
import { pageRequest, type Page, type PageInput } from '../../domain/page.js';
import { documentById, mergeDocument } from '../memory.service.js';
import { chunkText, normalisedText } from './chunk.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './config.js';
import type { BacklogLimits } from '../../domain/backlog.js';
import { TooLargeError } from './errors.js';
import { documentText, documentType } from './parse.js';

export interface DocumentUpload {
  title: string;
  /** The declared content type; generic types are read from `filename`'s extension. */
  mime: string | null;
  filename?: string;
  data: Uint8Array;
}

const MAX_TITLE_CHARS = 300;

/**
 * Documents (issue 11): parse, chunk, and hand the chunks to memory as PENDING episodes, in
 * one transaction with the (:Document) node. Every check (type, size, readable, chunk count)
 * runs before anything is written, so a refused document leaves nothing behind. The same text
 * again (contentHash) is the same document: POST /documents and ingestDocument both come here.
 */
export class DocumentService {
  constructor(
    private readonly uow: UnitOfWork,
    readonly limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * The new document, or the tenant's document of the same normalised text with `uploads`
   * raised (only its FAILED chunks are queued again; its title and type stay the first
   * upload's). Throws TooLargeError (over DOCUMENT_MAX_BYTES), UnsupportedTypeError,
   * BadInputError (empty, unreadable, bad title) or LimitExceededError (over
   * DOCUMENT_MAX_CHUNKS, or the chunks it queues past the tenant's TENANT_MAX_PENDING_EPISODES).
   */
  async ingest(tenantId: string, upload: DocumentUpload): Promise<MemoryDocument> {
    const title = checkTitle(upload.title);
    if (upload.data.length > this.limits.maxBytes) {
      throw new TooLargeError(this.limits.maxBytes, upload.data.length);
    }
    const type = documentType(upload.mime, upload.filename);
    const text = await documentText(upload.data, type, this.limits.maxBytes, tenantId);
    const chunks = chunkText(text, { size: this.limits.chunkChars });
    if (chunks.length > this.limits.maxChunks) {
      throw new LimitExceededError(
        'DOCUMENT_MAX_CHUNKS',
        `A document may make at most ${this.limits.maxChunks} chunks of about ${this.limits.chunkChars} characters (DOCUMENT_MAX_CHUNKS), but this one makes ${chunks.length}: split it`,
      );
    }
    return mergeDocument(
      this.uow,
      tenantId,
      {
        title,
        mime: type,
        bytes: upload.data.length,
        contentHash: contentHash(text),
        chunks,
        actorAgentId: null,
      },
      this.backlog,
    );
  }

  /** The tenant's document, or null (another tenant's id is simply absent). */
  byId(tenantId: string, id: string): Promise<MemoryDocument | null> {
    return documentById(this.uow, tenantId, id);
  }

  /** The tenant's documents, newest first. BAD_USER_INPUT for a bad `first` or `after`. */
  list(tenantId: string, filter: DocumentFilter, input: PageInput): Promise<Page<MemoryDocument>> {
    const page = pageRequest(input);
    return this.uow.read((tx) => listDocuments(tx, tenantId, filter, page));
  }

  /** How many of its chunks are ingested or failed; null for no such document of the tenant. */
  progress(tenantId: string, id: string): Promise<DocumentProgressCounts | null> {
    return this.uow.read((tx) => documentProgress(tx, tenantId, id));
  }
}

/** What makes two uploads one document: the SHA-256 of the text as it is chunked. */
export function contentHash(text: string): string {
  return createHash('sha256').update(normalisedText(text), 'utf8').digest('hex');
}

/**
 * The title of an upload sent without one: its file name, control and text-direction
 * characters made spaces (cleanName) and cut at the title's limit (never inside a character),
 * so a file name is no reason to refuse a title nobody sent; "document" for a blank one.
 */
export function titleFromFilename(filename: string): string {
  let title = '';
  for (const char of cleanName(filename) || 'document') {
    if (title.length + char.length > MAX_TITLE_CHARS) break;
    title += char;
  }
  return title;
}

function checkTitle(raw: string): string {
  const title = raw.trim();
  if (title.length === 0 || title.length > MAX_TITLE_CHARS) {
    throw new BadInputError(
      `title must have 1 to ${MAX_TITLE_CHARS} characters, but got ${title.length}`,
    );
  }
  return plainName('title', title);
}
