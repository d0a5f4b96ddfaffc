import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocument, mergeEpisodes } from '../graph/memory/episode.repository.js';
import { settleDocument } from '../graph/memory/ingest.repository.js';
import type { Tx } from '../graph/cypher.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * A document's last two chunks ending at once (memory-ingest-queue: one after another). Each
 * end counts the document's chunks still open and settles it when none is; two that each
 * counted the other as open left the document INGESTING for good.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const setStatus = (tx: Tx, id: string, status: string) =>
  tx.run({ cypher: 'MATCH (e:Episode {id: $id}) SET e.status = $status', params: { id, status } });

it('settles a document whose last two chunks end at once', async () => {
  const tenantId = server.tenantId;
  const { document, chunks } = await server.graph.write(async (tx) => {
    const doc = await createDocument(tx, tenantId, {
      title: 'two parts',
      mime: 'text/plain',
      bytes: 20,
      chunks: 2,
    });
    const episodes = await mergeEpisodes(
      tx,
      tenantId,
      [1, 2].map((part) => ({
        kind: EpisodeKind.DOCUMENT_CHUNK,
        sourceKey: `document:${doc.id}#${part}`,
        source: `part ${part}`,
        content: `part ${part} of the document`,
        occurredAt: null,
        scope: MemoryScope.TENANT,
        scopeId: null,
        documentId: doc.id,
      })),
    );
    for (const e of episodes) await setStatus(tx, e.id, 'INGESTING');
    return { document: doc.id, chunks: episodes.map((e) => e.id) };
  });

  let second: Promise<unknown> | undefined;
  // The first chunk's end holds the document until it commits; the second chunk's end (its
  // last failure) settles the document meanwhile.
  await server.graph.write(async (tx) => {
    await setStatus(tx, chunks[0]!, 'INGESTED');
    expect(await settleDocument(tx, tenantId, document)).toBe('INGESTING');
    second = server.graph.write(async (tx2) => {
      await setStatus(tx2, chunks[1]!, 'FAILED');
      return settleDocument(tx2, tenantId, document);
    });
    await untilBlocked(server.graph, 'the second end to wait for the document', {
      name: 'documentId',
      value: document,
    });
  });
  expect(await second).toBe('FAILED');
});
