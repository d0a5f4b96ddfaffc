import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockEntities } from '../graph/memory/merge.repository.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { untilBlocked } from './utils/blocked.js';
import { ingestHelpers, startIngestServer } from './utils/memory-ingest-fixtures.js';
import type { TestServer } from './utils/server.js';

/*
 * Episodes about one subject ingested at once (MEMORY_INGESTION_CONCURRENCY): each reads the
 * subject's current facts, asks its models, then commits. Read before another's commit, two
 * left two current revenues, or the same one twice. The commits wait for each other on the
 * subject's lock, and each decides again there against what the others committed.
 */

const embedder = new OfflineEmbedder();
let server: TestServer;
beforeAll(async () => {
  server = await startIngestServer(embedder);
});
afterAll(() => server.stop());

const { note, ingestPending, rows } = ingestHelpers(() => server, embedder);

it('keeps one current value of a single-valued fact when its episodes commit at once', async () => {
  await note('Initrode Corp revenue is 1M.');
  await ingestPending();
  const [subject] = await rows<{ id: string }>(
    "MATCH (:Fact {tenantId: $tenantId, predicate: 'revenue'})-[:SUBJECT]->(n) RETURN n.id AS id",
  );
  const initrode = subject!.id;
  for (const value of ['5M', '5M', '7M']) await note(`Initrode Corp revenue is ${value}.`);

  // Each of the three has read the facts (1M current) and waits to commit behind this lock.
  let ingesting: Promise<void> | undefined;
  await server.graph.write(async (tx) => {
    await lockEntities(tx, server.tenantId, [initrode]);
    ingesting = ingestPending();
    await untilBlocked(
      server.graph,
      'the three ingestions to wait for the subject',
      { name: 'tenantId', value: server.tenantId },
      3,
    );
  });
  await ingesting;

  const current = await rows<{ text: string }>(
    `MATCH (:Entity {id: $id})<-[:SUBJECT]-(f:Fact {predicate: 'revenue'})
     WHERE f.expiredAt IS NULL AND f.validUntil IS NULL
     RETURN f.text AS text`,
    { id: initrode },
  );
  expect(current).toHaveLength(1);
  // What was replaced stays, ended: the first revenue, and any value the last one replaced.
  const ended = await rows<{ text: string }>(
    `MATCH (:Entity {id: $id})<-[:SUBJECT]-(f:Fact {predicate: 'revenue'})
     WHERE f.validUntil IS NOT NULL RETURN f.text AS text`,
    { id: initrode },
  );
  expect(ended.map((f) => f.text)).toContain('Initrode Corp revenue: 1M');
});
