import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockEntities, mergeEntity } from '../graph/memory/merge.repository.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { untilBlocked } from './utils/blocked.js';
import { ingestHelpers, startIngestServer } from './utils/memory-ingest-fixtures.js';
import type { TestServer } from './utils/server.js';

/*
 * A person's merge while an episode about the merged entity is ingested (memory-api: merges at
 * rest; entity-merge-races: merges at once). Ingestion resolves names to entities, then commits;
 * an entity merged away in between must not take the episode's mention and facts, where
 * memory no longer looks: its survivor does.
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
