import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { createDocument, queueEpisode } from '../src/memory/memory.service.js';
import * as ingestRepo from '../graph/memory/ingest.repository.js';
import { mergeEntity } from '../graph/memory/merge.repository.js';
import { ensureVectorIndexes, vectorProperty } from '../graph/memory/vector.repository.js';
import { TOPICS, type DocumentProgressEvent } from '../subscriptions/topics.js';
import { EpisodeKind, MemoryScope, type Episode } from '../src/domain/memory.js';
import { llmEnvSchema, llmFromEnv } from '../src/llm/config.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { ingestEpisode, type IngestDeps } from '../src/memory/ingest/ingest.js';
import { IngestionQueue } from '../src/memory/ingest/queue.js';
import { numbersAsFacts } from '../src/memory/ingest/structured.js';
import { writeKnowledge } from '../graph/agent-work.repository.js';
import { KnowledgeKind } from '../src/domain/knowledge.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { createOperators, eventually, startPlan, withScheduler } from './utils/engine-steps.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';

// Memory ingestion (issue 11) against the real Neo4j, with the offline model (its heuristic
// extractor) and the offline embedder: extraction with provenance, resolution, contradiction,
// idempotence, structured facts, the queue's lease fence and fairness, a step's result as an
// episode.

let server: TestServer;
let tenant: string;
const embedder = new OfflineEmbedder();
const deps = (): IngestDeps => ({
  uow: server.services.uow,
  llm: llmFromEnv(llmEnvSchema.parse({})),
  logger: server.logger,
  embedder,
  similarity: 0.85,
});

beforeAll(async () => {
  server = await startTestServer();
  tenant = server.tenantId;
  await ensureVectorIndexes(server.graph, embedder);
});
afterAll(async () => {
  await server.stop();
});

const read = <T>(work: (tx: Tx) => Promise<T>) => server.graph.read(work);
const rows = <T extends Record<string, unknown>>(cypher: string, params: object = {}) =>
  read((tx) => tx.run<T>({ cypher, params: { tenantId: tenant, ...params } }));

function note(content: string, extra: Partial<Parameters<typeof queueEpisode>[2]> = {}) {
  return server.services.uow.run((tx) =>
    queueEpisode(tx, tenant, {
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
    tenantIds: [tenant],
    concurrency: 4,
    ...queueDeps,
  });
  for (let round = 0; round < 50; round++) {
    await queue.tick();
    await queue.idle();
    const counts = await read((tx) => ingestRepo.episodeCounts(tx, tenant));
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

describe('memory ingestion', () => {
  let first: Episode;

  it('extracts entities and facts with provenance in one model call, recorded as an :LLMCall', async () => {
    first = await note('Acme Corp. revenue is 12M. Jane Doe joined Acme Corp. as CEO.');
    await ingestPending();
    const done = await episode(first.id);
    expect(done).toMatchObject({ status: 'INGESTED', modelCalls: 1, attempts: 1 });
    const entities = await rows<{
      name: string;
      type: string;
      mentioned: boolean;
      vector: boolean;
    }>(
      `MATCH (n:Entity {tenantId: $tenantId})
       RETURN n.name AS name, n.type AS type,
         EXISTS { (n)-[:MENTIONED_IN]->(:Episode {id: $id}) } AS mentioned,
         n.${vectorProperty(embedder)} IS NOT NULL AS vector ORDER BY name`,
      { id: first.id },
    );
    expect(entities).toEqual(
      expect.arrayContaining([
        { name: 'Acme Corp', type: 'Organisation', mentioned: true, vector: true },
        { name: 'Jane Doe', type: expect.any(String), mentioned: true, vector: true },
      ]),
    );
    const [revenue] = await factsOf('acme');
    expect(revenue).toMatchObject({ value: '12M', validUntil: null, episodes: [first.id] });
    // An undated fact holds from when its episode happened (the world's time, not the clock's).
    const [dated] = await rows<{ same: boolean }>(
      `MATCH (f:Fact {tenantId: $tenantId})-[:FROM_EPISODE]->(e:Episode {id: $id})
       RETURN f.validFrom = e.occurredAt AS same LIMIT 1`,
      { id: first.id },
    );
    expect(dated).toEqual({ same: true });
    const calls = await rows<{ purpose: string }>(
      'MATCH (c:LLMCall {tenantId: $tenantId}) RETURN c.purpose AS purpose',
    );
    expect(calls).toEqual([{ purpose: 'memory' }]);
  });

  it('resolves "ACME Corporation" to "Acme Corp" (an alias) and keeps "Acme Bank" apart', async () => {
    const second = await note('ACME Corporation revenue is 15M. Acme Bank has 300 branches.');
    await ingestPending();
    const acme = await rows<{ id: string; aliases: string[] }>(
      `MATCH (n:Entity {tenantId: $tenantId}) WHERE n.normName = 'acme' AND n.mergedInto IS NULL
       RETURN n.id AS id, n.aliases AS aliases`,
    );
    expect(acme).toHaveLength(1);
    expect(acme[0]!.aliases).toContain('ACME Corporation');
    const bank = await rows<{ n: number }>(
      "MATCH (n:Entity {tenantId: $tenantId, normName: 'acme bank'}) RETURN count(n) AS n",
    );
    expect(bank[0]!.n).toBe(1);
    // A number is single-valued: the old revenue ends without a judge call.
    expect(await episode(second.id)).toMatchObject({ status: 'INGESTED', modelCalls: 1 });
  });

  it('ends the contradicted fact (validUntil, expiredAt, REPLACED_BY) and keeps it', async () => {
    const revenue = (await factsOf('acme')).filter((f) => /^1\dM$/.test(f.value));
    expect(revenue).toHaveLength(2);
    const [old, now] = revenue as [(typeof revenue)[0], (typeof revenue)[0]];
    expect(old.value).toBe('12M');
    expect(old.validUntil).not.toBeNull();
    expect(old.expiredAt).not.toBeNull();
    expect(old.replacedBy).toBe(now.id);
    expect(now).toMatchObject({ value: '15M', validUntil: null, expiredAt: null });
  });

  it('makes a judge call only when a candidate conflict exists', async () => {
    const paris = await note('The firm Initech has offices in Paris.');
    await ingestPending();
    expect(await episode(paris.id)).toMatchObject({ modelCalls: 1 });
    const berlin = await note('The firm Initech has offices in Berlin.');
    await ingestPending();
    // "has" may hold several values: the judge decides (the offline judge says they conflict).
    expect(await episode(berlin.id)).toMatchObject({ modelCalls: 2 });
    const facts = await factsOf('initech');
    expect(facts.map((f) => [f.value, f.expiredAt !== null])).toEqual([
      ['offices in Paris', true],
      ['offices in Berlin', false],
    ]);
    const calls = await rows<{ n: number }>(
      "MATCH (c:LLMCall {tenantId: $tenantId, purpose: 'memory'}) RETURN count(c) AS n",
    );
    expect(calls[0]!.n).toBe(5);
  });

  it('writes nothing twice when the same episode is ingested again', async () => {
    const count = () =>
      rows<{ entities: number; facts: number; edges: number }>(
        `RETURN COUNT { (n:Entity {tenantId: $tenantId}) } AS entities,
           COUNT { (f:Fact {tenantId: $tenantId}) } AS facts,
           COUNT { (:Entity|Fact {tenantId: $tenantId})-[]->() } AS edges`,
      );
    const before = await count();
    await server.graph.write((tx) =>
      tx.run({
        cypher: "MATCH (e:Episode {tenantId: $tenantId, id: $id}) SET e.status = 'PENDING'",
        params: { tenantId: tenant, id: first.id },
      }),
    );
    await ingestPending();
    expect(await count()).toEqual(before);
    // Today's revenue is still current: the old episode did not bring its 12M back.
    const current = (await factsOf('acme')).filter(
      (f) => f.expiredAt === null && /M$/.test(f.value),
    );
    expect(current.map((f) => f.value)).toEqual(['15M']);
  });

  it('writes structured facts with no model call when the episode has no free text', async () => {
    const output = { revenue: 12, costs: { q1: 3 } };
    const structured = numbersAsFacts(output, {
      name: 'Quarterly numbers',
      type: 'Task',
      summary: 'a step',
    });
    const e = await note(JSON.stringify(output), { structured });
    await ingestPending();
    expect(await episode(e.id)).toMatchObject({ status: 'INGESTED', modelCalls: 0 });
    const facts = await factsOf('quarterly numbers');
    expect(facts.map((f) => f.value).sort()).toEqual(['12', '3']);
  });

  it('resolves a name merged away to the entity it was merged into', async () => {
    await note(
      'The firm Vandelay Industries has 3 importers. The firm Kramerica Industries has 1 intern.',
    );
    await ingestPending();
    const ids = await rows<{ id: string; normName: string }>(
      `MATCH (n:Entity {tenantId: $tenantId}) WHERE n.normName IN ['vandelay industries', 'kramerica industries']
       RETURN n.id AS id, n.normName AS normName ORDER BY normName`,
    );
    const [kramerica, vandelay] = ids.map((r) => r.id) as [string, string];
    await server.graph.write((tx) =>
      mergeEntity(tx, tenant, kramerica, vandelay, 'the same firm', 'test'),
    );
    await note('The firm Kramerica Industries has 2 interns.');
    await ingestPending();
    const standing = await rows<{ n: number }>(
      `MATCH (n:Entity {tenantId: $tenantId, normName: 'kramerica industries'})
       WHERE n.mergedInto IS NULL RETURN count(n) AS n`,
    );
    expect(standing[0]!.n).toBe(0);
    const values = (await factsOf('vandelay industries')).map((f) => f.value);
    expect(values).toContain('2 interns');
  });

  it('commits nothing when the lease was lost before the commit', async () => {
    const e = await note('Zorblax Industries revenue is 9M.');
    const [claimed] = await server.services.uow.run((tx) =>
      ingestRepo.claimEpisodes(tx, 'worker-a', 10, 60_000, [tenant]),
    );
    expect(claimed!.episode.id).toBe(e.id);
    // Another worker took it over (the lease expired and was claimed again).
    await server.graph.write((tx) =>
      tx.run({
        cypher: "MATCH (e:Episode {id: $id}) SET e.leaseOwner = 'worker-b'",
        params: { id: e.id },
      }),
    );
    const result = await ingestEpisode(deps(), claimed!, 'worker-a');
    expect(result).toMatchObject({ committed: false, modelCalls: 1 });
    const zorblax = await rows<{ n: number }>(
      "MATCH (n:Entity {tenantId: $tenantId}) WHERE n.normName STARTS WITH 'zorblax' RETURN count(n) AS n",
    );
    expect(zorblax[0]!.n).toBe(0);
    expect(await episode(e.id)).toMatchObject({ status: 'INGESTING', leaseOwner: 'worker-b' });
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (e:Episode {id: $id}) DETACH DELETE e', params: { id: e.id } }),
    );
  });

  it('gives an episode whose lease expired back to PENDING, and FAILS it after the last attempt', async () => {
    const e = await note('Soylent Corp revenue is 5M.');
    const claim = () =>
      server.services.uow.run((tx) => ingestRepo.claimEpisodes(tx, 'dead-worker', 10, 1, [tenant]));
    const sweeper = new IngestionQueue({ ...deps(), tenantIds: [tenant], maxAttempts: 2 });
    expect((await claim()).map((c) => c.episode.id)).toEqual([e.id]);
    await eventually('the lease expires and the sweep gives the episode back', async () => {
      await sweeper.sweep();
      return (await episode(e.id)).status === 'PENDING';
    });
    expect((await episode(e.id)).error).toMatch(/lease expired: worker dead-worker/);
    expect((await claim()).map((c) => c.episode.attempts)).toEqual([2]);
    await eventually('the second expiry fails it', async () => {
      await sweeper.sweep();
      return (await episode(e.id)).status === 'FAILED';
    });
  });

  it('claims fairly across tenants: one tenant’s backlog does not starve another’s episode', async () => {
    const busy = `test-busy-${randomUUID()}`;
    const quiet = `test-quiet-${randomUUID()}`;
    const queue = (t: string, n: number) =>
      server.services.uow.run((tx) =>
        queueEpisode(tx, t, {
          kind: EpisodeKind.NOTE,
          sourceKey: `note:${n}`,
          source: 'fairness',
          content: `note ${n}`,
          occurredAt: null,
          scope: MemoryScope.TENANT,
          scopeId: null,
        }),
      );
    try {
      for (let n = 0; n < 12; n++) await queue(busy, n);
      const lone = await queue(quiet, 0);
      const claimed = await server.services.uow.run((tx) =>
        ingestRepo.claimEpisodes(tx, 'fair-worker', 3, 60_000, [busy, quiet]),
      );
      expect(claimed.map((c) => c.episode.tenantId).sort()).toEqual([busy, busy, quiet].sort());
      expect(claimed.some((c) => c.episode.id === lone.id)).toBe(true);
    } finally {
      await deleteTenant(server.graph, busy);
      await deleteTenant(server.graph, quiet);
    }
  });

  it('ingests a document’s chunks in the background, publishing progress and ending the document', async () => {
    const events: DocumentProgressEvent[] = [];
    const sub = server.pubsub.subscribe(TOPICS.documentProgress, {
      filter: (p) => (p as DocumentProgressEvent).tenantId === tenant,
    });
    const collecting = (async () => {
      for await (const p of sub) {
        events.push(p as DocumentProgressEvent);
        if ((p as DocumentProgressEvent).status !== 'INGESTING') break;
      }
    })();
    const doc = await createDocument(server.services.uow, tenant, {
      title: 'Q3',
      mime: 'text/plain',
      bytes: 60,
      chunks: ['Hooli revenue is 4M.', 'Hooli has 40 engineers.'],
    });
    const queue = new IngestionQueue({ ...deps(), tenantIds: [tenant], pollMs: 20 });
    queue.start();
    try {
      await eventually(
        'the document is ingested',
        async () => {
          const [d] = await rows<{ status: string }>(
            'MATCH (d:Document {tenantId: $tenantId, id: $id}) RETURN d.status AS status',
            { id: doc.id },
          );
          return d?.status === 'INGESTED';
        },
        20_000,
      );
      await collecting;
    } finally {
      await queue.stop({ abort: true });
      await sub.return?.();
    }
    expect(events.map((e) => [e.ingested, e.status])).toEqual([
      [1, 'INGESTING'],
      [2, 'INGESTED'],
    ]);
  });
});

describe('a step’s result as an episode', () => {
  it('queues a RUN_RESULT episode with the step’s outcome, ingested later without blocking the step, linking the run’s knowledge to entities', async () => {
    const s = await startTestServer();
    try {
      await createOperators(s, { Worker: ['counting'] });
      const ids = await startPlan(s, [
        { key: 'root', title: 'Market brief' },
        { key: 'numbers', title: 'Count the numbers', parentKey: 'root' },
      ]);
      await withScheduler(
        s,
        async ({ task, agent, run, writes }) => {
          // What the step learned, linked ABOUT the entities it names once ingested.
          writes.add('knowledge', async (tx) => {
            await writeKnowledge(tx, {
              tenantId: task.tenantId,
              kind: KnowledgeKind.FACT,
              content: 'Globex Corp sells mostly in Europe.',
              confidence: 0.7,
              tags: [],
              runId: run.id,
              taskId: task.id,
              agentId: agent.id,
            });
          });
          return {
            result: JSON.stringify({
              summary: 'Globex Corp. revenue is 7M this year.',
              revenue: 7,
            }),
          };
        },
        async () => {
          await waitForWorkflow(s, ids.root!, allFinished);
        },
      );
      const run = (tenantId: string) =>
        s.graph.read((tx) =>
          tx.run<{ id: string; status: string; scope: string; scopeId: string; runId: string }>({
            cypher: `MATCH (e:Episode {tenantId: $tenantId, kind: 'RUN_RESULT'})-[:FROM_RUN]->(r:Run)
                     RETURN e.id AS id, e.status AS status, e.scope AS scope, e.scopeId AS scopeId, r.id AS runId`,
            params: { tenantId },
          }),
        );
      const [queued] = await run(s.tenantId);
      // The step completed while its episode waited: nothing ingested it yet.
      expect(queued).toMatchObject({ status: 'PENDING', scope: 'TASK', scopeId: ids.root });
      const queue = new IngestionQueue({ ...deps(), uow: s.services.uow, tenantIds: [s.tenantId] });
      await queue.tick();
      await queue.idle();
      const [done] = await run(s.tenantId);
      expect(done!.status).toBe('INGESTED');
      const facts = await s.graph.read((tx) =>
        tx.run<{ subject: string; predicate: string; value: string }>({
          cypher: `MATCH (f:Fact {tenantId: $tenantId})-[:SUBJECT]->(n:Entity)
                   RETURN n.name AS subject, f.predicate AS predicate, f.value AS value ORDER BY subject, predicate`,
          params: { tenantId: s.tenantId },
        }),
      );
      expect(facts).toEqual(
        expect.arrayContaining([
          { subject: 'Count the numbers', predicate: 'revenue', value: '7' },
          { subject: 'Globex Corp', predicate: 'revenue', value: '7M this year' },
          // Task fields and the agent's capabilities, structured: no model call for them.
          { subject: 'Count the numbers', predicate: 'priority', value: 'MEDIUM' },
          { subject: 'Count the numbers', predicate: 'done_by', value: 'Worker' },
          { subject: 'Worker', predicate: 'capability_counting', value: expect.any(String) },
        ]),
      );
      const calls = await s.graph.read((tx) =>
        tx.run<{ runId: string }>({
          cypher:
            "MATCH (c:LLMCall {tenantId: $tenantId, purpose: 'memory'}) RETURN c.runId AS runId",
          params: { tenantId: s.tenantId },
        }),
      );
      expect(calls).toEqual([{ runId: queued!.runId }]);
      const about = await s.graph.read((tx) =>
        tx.run<{ content: string; entity: string }>({
          cypher: `MATCH (k:Knowledge {tenantId: $tenantId})-[:ABOUT]->(n:Entity)
                   RETURN k.content AS content, n.name AS entity`,
          params: { tenantId: s.tenantId },
        }),
      );
      expect(about).toEqual([
        { content: 'Globex Corp sells mostly in Europe.', entity: 'Globex Corp' },
      ]);
    } finally {
      await s.stop();
    }
  }, 90_000); // a server, a workflow and an ingestion: 2 s alone, over 30 s under two loaded suites
});
