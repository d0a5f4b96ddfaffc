import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeDocument, queueEpisode } from '../src/memory/memory.service.js';
import * as ingestRepo from '../graph/memory/ingest.repository.js';
import { TOPICS, type DocumentProgressEvent } from '../subscriptions/topics.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { UNLIMITED_BUDGETS, type BudgetDefaults } from '../src/domain/budget.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { ingestEpisode } from '../src/memory/ingest/ingest.js';
import { IngestionQueue } from '../src/memory/ingest/queue.js';
import { writeKnowledge } from '../graph/agent-work.repository.js';
import { KnowledgeKind } from '../src/domain/knowledge.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { createOperators, eventually, startPlan, withScheduler } from './utils/engine-steps.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import { startIngestServer, ingestHelpers } from './utils/memory-ingest-fixtures.js';

// Memory ingestion (issue 11) against the real Neo4j, with the offline model and embedder: the
// queue's lease fence and fairness, a document's chunks, and a step's result as an episode
// (memory-ingest-extract.int.test.ts: what extraction writes).

let server: TestServer;
let tenant: string;
const embedder = new OfflineEmbedder();

beforeAll(async () => {
  server = await startIngestServer(embedder);
  tenant = server.tenantId;
});
afterAll(async () => {
  await server.stop();
});

const { deps, rows, note, episode } = ingestHelpers(() => server, embedder);

describe('memory ingestion', () => {
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
    expect((await episode(e.id)).error).toBe(
      'lease expired: worker dead-worker did not renew it (stopped, or could not reach the database)',
    );
    expect((await claim()).map((c) => c.episode.attempts)).toEqual([2]);
    await eventually('the second expiry fails it', async () => {
      await sweeper.sweep();
      return (await episode(e.id)).status === 'FAILED';
    });
  });

  it('waits, PENDING, while a budget refuses its model call, and goes on once it is raised', async () => {
    const e = await note('Budgetless Ltd revenue is 1M.');
    const queue = (budgets: BudgetDefaults) =>
      new IngestionQueue({ ...deps(), budgets, tenantIds: [tenant], maxAttempts: 1 });
    const over = queue({ ...UNLIMITED_BUDGETS, tenant: { usd: null, tokens: 1 } });
    await over.tick();
    await over.idle();
    // Not an attempt and not a model call (none was made); it was FAILED for good before.
    expect(await episode(e.id)).toMatchObject({
      status: 'PENDING',
      attempts: 0,
      modelCalls: 0,
      error: expect.stringMatching(/^BUDGET_EXCEEDED: the tenant budget of 1 tokens/),
    });
    // What applies to an episode: no one cancels it; it is tried again by itself.
    const { error } = await episode(e.id);
    expect(error).toMatch(/raise it with setBudget\(scope: TENANT, id: ".+", tokens: \.\.\.\)/);
    expect(error).toMatch(/; the episode is tried again every minute$/);
    expect(error).not.toContain('cancel');
    await server.graph.write((tx) =>
      tx.run({
        cypher: 'MATCH (e:Episode {id: $id}) SET e.retryAt = datetime()',
        params: { id: e.id },
      }),
    );
    const raised = queue(UNLIMITED_BUDGETS);
    await raised.tick();
    await raised.idle();
    expect(await episode(e.id)).toMatchObject({ status: 'INGESTED', attempts: 1, modelCalls: 1 });
  });

  /** A tenant-wide note queued for tenant `t`: the fairness tests' backlog. */
  const queueNote = (t: string, n: number) =>
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

  it('claims fairly across tenants: one tenant’s backlog does not starve another’s episode', async () => {
    const busy = `test-busy-${randomUUID()}`;
    const quiet = `test-quiet-${randomUUID()}`;
    try {
      for (let n = 0; n < 12; n++) await queueNote(busy, n);
      const lone = await queueNote(quiet, 0);
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

  it('claims one at a time by turns: a tenant’s older backlog does not hold back another’s episode', async () => {
    // The queue claims as a slot frees, one episode a claim: oldest first within a turn, the
    // tenant with the older backlog won every claim (a walk: 18,000 chunks, a day's wait).
    const busy = `test-busy-${randomUUID()}`;
    const quiet = `test-quiet-${randomUUID()}`;
    try {
      for (let n = 0; n < 6; n++) await queueNote(busy, n);
      await queueNote(quiet, 0);
      await queueNote(quiet, 1);
      const order: string[] = [];
      let after: string | null = null;
      for (let n = 0; n < 4; n++) {
        const [c] = await server.services.uow.run((tx) =>
          ingestRepo.claimEpisodes(tx, 'turn-worker', 1, 60_000, [busy, quiet], after),
        );
        order.push(c!.episode.tenantId);
        after = c!.episode.tenantId;
      }
      expect(order).toEqual([busy, quiet, busy, quiet]);
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
    const doc = await mergeDocument(server.services.uow, tenant, {
      title: 'Q3',
      mime: 'text/plain',
      bytes: 60,
      contentHash: randomUUID(),
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
