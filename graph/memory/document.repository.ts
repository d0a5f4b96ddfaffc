// Documents (POST /documents, ingestDocument): the node of a text, its chunk episodes FROM it.
import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import type { EpisodeStatus, MemoryDocument } from '../../src/domain/memory.js';
import type { Page, PageRequest } from '../../src/domain/page.js';
import type { Tx } from '../cypher.js';
import { lockAndBump } from '../locks.js';
import { readPage, type NodeLike } from '../page.js';
import { toDocument } from './mappers.js';

export interface NewDocument {
  title: string;
  mime: string;
  bytes: number;
  /** Unique per tenant (migration 42): the same hash again is the same document. */
  contentHash: string;
  chunks: number;
}

/**
 * Creates the tenant's document of `contentHash` (uploads 1), or finds it and raises its
 * uploads under its lock. MERGE on the (tenantId, contentHash) constraint: a second
 * transaction waits for the first one's commit and then finds its node, never making two.
 */
export async function mergeDocument(
  tx: Tx,
  tenantId: string,
  doc: NewDocument,
): Promise<MemoryDocument> {
  await tx.run({
    cypher: `
      MERGE (d:Document {tenantId: $tenantId, contentHash: $contentHash})
      ON CREATE SET d.id = $id, d.title = $title, d.mime = $mime, d.bytes = $bytes,
        d.chunks = $chunks, d.status = 'INGESTING', d.createdAt = datetime()`,
    params: {
      tenantId,
      id: randomUUID(),
      ...doc,
      bytes: neo4j.int(doc.bytes),
      chunks: neo4j.int(doc.chunks),
    },
  });
  // A statement of its own: bumped in the MERGE's, four uploads at once all read 1 and
  // answered 2 (test/documents-duplicates.int.test.ts).
  const [row] = await tx.run<{ d: NodeLike }>({
    cypher: `
      MATCH (d:Document {tenantId: $tenantId, contentHash: $contentHash})
      ${lockAndBump('d', 'Document', 'uploads')}, d.updatedAt = datetime()
      RETURN d`,
    params: { tenantId, contentHash: doc.contentHash },
  });
  return toDocument(row!.d);
}

export async function documentsByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<MemoryDocument[]> {
  const rows = await tx.run<{ d: NodeLike }>({
    cypher:
      'UNWIND $ids AS id MATCH (d:Document {tenantId: $tenantId, id: id}) USING INDEX SEEK d:Document(id) RETURN d',
    params: { tenantId, ids },
  });
  return rows.map((r) => toDocument(r.d));
}

/** How far a document's ingestion got: its chunks by status. */
export type DocumentProgressCounts = {
  documentId: string;
  chunks: number;
  ingested: number;
  failed: number;
};

export async function documentProgress(
  tx: Tx,
  tenantId: string,
  documentId: string,
): Promise<DocumentProgressCounts | null> {
  const [row] = await tx.run<DocumentProgressCounts>({
    cypher: `
      MATCH (d:Document {tenantId: $tenantId, id: $documentId})
      RETURN d.id AS documentId, d.chunks AS chunks,
        COUNT { (e:Episode {status: 'INGESTED'})-[:FROM_DOCUMENT]->(d) } AS ingested,
        COUNT { (e:Episode {status: 'FAILED'})-[:FROM_DOCUMENT]->(d) } AS failed`,
    params: { tenantId, documentId },
  });
  return row ?? null;
}

export interface DocumentFilter {
  /** INGESTING, INGESTED or FAILED: the status the document node holds. */
  status?: EpisodeStatus;
}

/** The tenant's documents, newest first, as a page. */
export function listDocuments(
  tx: Tx,
  tenantId: string,
  filter: DocumentFilter,
  page: PageRequest,
): Promise<Page<MemoryDocument>> {
  return readPage(
    tx,
    {
      label: 'Document',
      // One status's documents from its index when few (page-direct.ts: OneOf; migration 41).
      oneOf: filter.status
        ? { property: 'status', param: 'statuses', then: ['createdAt'] }
        : undefined,
      conditions: filter.status ? ['n.status = $status'] : [],
      params: { tenantId, ...filter, statuses: [filter.status] },
      sort: { property: 'createdAt', descending: true },
      page,
    },
    toDocument,
  );
}
