import { randomUUID } from 'node:crypto';
import type { Tx } from '../../graph/cypher.js';
import { queueEpisode } from '../../src/memory/memory.service.js';
import * as ingestRepo from '../../graph/memory/ingest.repository.js';
import { ensureVectorIndexes } from '../../graph/memory/vector.repository.js';
import { EpisodeKind, MemoryScope, type Episode } from '../../src/domain/memory.js';
import { llmEnvSchema, llmFromEnv } from '../../src/llm/config.js';
import type { Embedder } from '../../src/memory/embeddings/embedder.js';
import { type IngestDeps } from '../../src/memory/ingest/ingest.js';
import { IngestionQueue } from '../../src/memory/ingest/queue.js';
import { startTestServer, type TestServer } from './server.js';

// Memory ingestion's suites' fixtures (issue 11): episodes queued and ingested in the test
// tenant with the offline model and embedder, and what the graph then holds.

/** The server of the memory ingestion suites, with the embedder's vector indexes. */
export async function startIngestServer(embedder: Embedder): Promise<TestServer> {
  const server = await startTestServer();
  await ensureVectorIndexes(server.graph, embedder);
  return server;
}

/** The suites' calls on the server that `serverOf` gives (once beforeAll has started it). */
export function ingestHelpers(serverOf: () => TestServer, embedder: Embedder) {
  const deps = (): IngestDeps => {
    const server = serverOf();
    return {
      uow: server.services.uow,
      llm: llmFromEnv(llmEnvSchema.parse({})),
      logger: server.logger,
      embedder,
      similarity: 0.85,
    };
  };
  const read = <T>(work: (tx: Tx) => Promise<T>) => serverOf().graph.read(work);
  const rows = <T extends Record<string, unknown>>(cypher: string, params: object = {}) =>
    read((tx) => tx.run<T>({ cypher, params: { tenantId: serverOf().tenantId, ...params } }));

  function note(content: string, extra: Partial<Parameters<typeof queueEpisode>[2]> = {}) {
    return serverOf().services.uow.run((tx) =>
      queueEpisode(tx, serverOf().tenantId, {
        kind: EpisodeKind.NOTE,
        sourceKey: `note:${randomUUID()}`,
        source: 'a test note',
        content,
        occurredAt: null,
        scope: MemoryScope.TENANT,
        scopeId: null,
        ...extra,
      }),
    );
  }

  /** Ingests every PENDING episode of the tenant, through the queue's own claim and commit. */
  async function ingestPending(
    queueDeps: Partial<ConstructorParameters<typeof IngestionQueue>[0]> = {},
  ) {
    const queue = new IngestionQueue({
      ...deps(),
      tenantIds: [serverOf().tenantId],
      concurrency: 4,
      ...queueDeps,
    });
    for (let round = 0; round < 50; round++) {
      await queue.tick();
      await queue.idle();
      const counts = await read((tx) => ingestRepo.episodeCounts(tx, serverOf().tenantId));
      if (!counts.PENDING && !counts.INGESTING) return;
    }
    throw new Error('episodes were left PENDING');
  }

  const episode = async (id: string): Promise<Episode> =>
    (
      await rows<{ e: Episode }>(
        'MATCH (e:Episode {tenantId: $tenantId, id: $id}) RETURN e {.*, occurredAt: toString(e.occurredAt)} AS e',
        { id },
      )
    )[0]!.e;

  const factsOf = (name: string) =>
    rows<{
      id: string;
      value: string;
      validUntil: string | null;
      expiredAt: string | null;
      replacedBy: string | null;
      episodes: string[];
    }>(
      `MATCH (f:Fact)-[:SUBJECT]->(n:Entity {tenantId: $tenantId, normName: $norm})
       RETURN f.id AS id, f.value AS value, toString(f.validUntil) AS validUntil,
         toString(f.expiredAt) AS expiredAt,
         COLLECT { MATCH (f)-[:REPLACED_BY]->(g) RETURN g.id }[0] AS replacedBy,
         COLLECT { MATCH (f)-[:FROM_EPISODE]->(e) RETURN e.id } AS episodes
       ORDER BY f.recordedAt, f.id`,
      { norm: name },
    );

  return { deps, read, rows, note, ingestPending, episode, factsOf };
}
