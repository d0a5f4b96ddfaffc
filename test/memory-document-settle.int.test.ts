import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mergeDocument } from '../graph/memory/document.repository.js';
import { mergeEpisodes } from '../graph/memory/episode.repository.js';
import {
  expireEpisodeLeases,
  releaseEpisode,
  settleDocument,
} from '../graph/memory/ingest.repository.js';
import type { Tx } from '../graph/cypher.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * A document's last two chunks ending at once (memory-ingest-queue: one after another). Each
 * end counts the document's chunks still open and settles it when none is; two that each
 * counted the other as open left the document INGESTING for good. And a worker giving back an
 * episode whose lease another process expired meanwhile.
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
    const doc = await mergeDocument(tx, tenantId, {
      title: 'two parts',
      mime: 'text/plain',
      bytes: 20,
      contentHash: randomUUID(),
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

it('keeps the end of an episode whose lease expired while its worker was giving it back', async () => {
  const tenantId = server.tenantId;
  const [episode] = await server.graph.write((tx) =>
    mergeEpisodes(tx, tenantId, [
      {
        kind: EpisodeKind.MESSAGE,
        sourceKey: `release-${tenantId}`,
        source: 'a message',
        content: 'a message to ingest',
        occurredAt: null,
        scope: MemoryScope.TENANT,
        scopeId: null,
        documentId: null,
      },
    ]),
  );
  await server.graph.write((tx) =>
    tx.run({
      cypher: `MATCH (e:Episode {id: $id})
               SET e.status = 'INGESTING', e.leaseOwner = 'worker-a', e.attempts = 3,
                   e.leaseUntil = datetime() - duration('PT1S')`,
      params: { id: episode!.id },
    }),
  );
  let released: Promise<unknown> | undefined;
  // Another process expires the lease (its last attempt: FAILED) and holds the episode until it
  // commits; the worker, stopping, gives the episode back meanwhile.
  await server.graph.write(async (tx) => {
    expect(await expireEpisodeLeases(tx, 3, [tenantId])).toMatchObject([{ failed: true }]);
    released = server.graph.write((tx2) => releaseEpisode(tx2, episode!.id, 'worker-a'));
    await untilBlocked(server.graph, 'the release to wait for the episode', {
      name: 'episodeId',
      value: episode!.id,
    });
  });
  await released;
  const [row] = await server.graph.read((tx) =>
    tx.run<{ status: string; attempts: number }>({
      cypher: 'MATCH (e:Episode {id: $id}) RETURN e.status AS status, e.attempts AS attempts',
      params: { id: episode!.id },
    }),
  );
  expect(row).toEqual({ status: 'FAILED', attempts: 3 });
});
