import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockEntities, mergeEntity } from '../graph/memory/merge.repository.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { untilBlocked } from './utils/blocked.js';
import { ingestHelpers, startIngestServer } from './utils/memory-ingest-fixtures.js';
import type { TestServer } from './utils/server.js';

/*
 * What changes while an episode is ingested (it reads, asks its models, then commits). A
 * person's merge of the entity it is about (memory-api: merges at rest; entity-merge-races:
 * merges at once): an entity merged away in between must not take the episode's mention and
 * facts, where memory no longer looks: its survivor does. And other episodes about the same
 * subject (MEMORY_INGESTION_CONCURRENCY): read before another's commit, two left two current
 * revenues, or the same one twice; each now decides again at commit, under the subject's lock.
 */

const embedder = new OfflineEmbedder();
let server: TestServer;
beforeAll(async () => {
  server = await startIngestServer(embedder);
});
afterAll(() => server.stop());

const { note, ingestPending, rows } = ingestHelpers(() => server, embedder);

const entityId = async (norm: string) =>
  (
    await rows<{ id: string }>(
      'MATCH (n:Entity {tenantId: $tenantId, normName: $norm}) RETURN n.id AS id',
      { norm },
    )
  )[0]!.id;

it("writes an episode's mention and facts to the survivor of a merge made meanwhile", async () => {
  await note('Zorblax Industries revenue is 9M.');
  await note('Quuxly Holdings revenue is 3M.');
  await ingestPending();
  const [zorblax, quuxly] = [
    await entityId('zorblax industries'),
    await entityId('quuxly holdings'),
  ];
  const second = await note('Zorblax Industries employees is 40.');

  let ingesting: Promise<void> | undefined;
  // The person's merge holds both entities' locks until it commits; the ingestion of the
  // second note, which read Zorblax as standing, waits for them meanwhile.
  await server.graph.write(async (tx) => {
    await lockEntities(tx, server.tenantId, [zorblax, quuxly]);
    await mergeEntity(tx, server.tenantId, zorblax, quuxly, 'the same firm', 'a person');
    ingesting = ingestPending();
    await untilBlocked(server.graph, 'the ingestion to wait for the entities', {
      name: 'tenantId',
      value: server.tenantId,
    });
  });
  await ingesting;

  const mentioned = await rows<{ id: string }>(
    'MATCH (n:Entity)-[:MENTIONED_IN]->(:Episode {id: $id}) RETURN n.id AS id',
    { id: second.id },
  );
  expect(mentioned).toEqual([{ id: quuxly }]);
  const subjects = await rows<{ id: string }>(
    `MATCH (f:Fact)-[:FROM_EPISODE]->(:Episode {id: $id}), (f)-[:SUBJECT]->(n:Entity)
     RETURN n.id AS id`,
    { id: second.id },
  );
  expect(subjects).toEqual([{ id: quuxly }]);
});

it('keeps one current value of a single-valued fact when its episodes commit at once', async () => {
  await note('Initrode Corp revenue is 1M.');
  await ingestPending();
  const [subject] = await rows<{ id: string }>(
    `MATCH (f:Fact {tenantId: $tenantId, predicate: 'revenue'})-[:SUBJECT]->(n)
     WHERE f.text STARTS WITH 'Initrode' RETURN n.id AS id`,
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
