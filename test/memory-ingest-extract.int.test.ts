import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeEntity } from '../graph/memory/merge.repository.js';
import { vectorProperty } from '../graph/memory/vector.repository.js';
import { MemoryScope, type Episode } from '../src/domain/memory.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { numbersAsFacts } from '../src/memory/ingest/structured.js';
import { type TestServer } from './utils/server.js';
import { startIngestServer, ingestHelpers } from './utils/memory-ingest-fixtures.js';

// Memory ingestion (issue 11) against the real Neo4j, with the offline model (its heuristic
// extractor) and the offline embedder: extraction with provenance, resolution, contradiction,
// idempotence and structured facts (memory-ingest-queue.int.test.ts: the queue, documents and
// a step's result as an episode).

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

const { rows, note, ingestPending, episode, factsOf } = ingestHelpers(() => server, embedder);

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

  it('keeps the newer fact current when an older episode is ingested after it (a retry, a race)', async () => {
    const march = '2026-03-01T00:00:00.000Z';
    await note('Pendant Publishing revenue is 20M.', { occurredAt: march });
    await ingestPending();
    await note('Pendant Publishing revenue is 10M.', { occurredAt: '2026-01-01T00:00:00.000Z' });
    await ingestPending();
    const facts = await factsOf('pendant publishing');
    const byValue = new Map(facts.map((f) => [f.value, f]));
    const [now, then] = [byValue.get('20M')!, byValue.get('10M')!];
    // March's revenue still holds; January's held until March, and March's fact ended it.
    expect(now).toMatchObject({ validUntil: null, expiredAt: null, replacedBy: null });
    expect(then.validUntil && new Date(then.validUntil).toISOString()).toBe(march);
    expect(then.replacedBy).toBe(now.id);
  });

  it('writes no summary or alias of a private episode onto a shared entity', async () => {
    await note('Globex Corp. revenue is 5M.');
    await ingestPending();
    const globex = () =>
      rows<{ summary: string; aliases: string[] }>(
        `MATCH (n:Entity {tenantId: $tenantId, normName: 'globex'})
         RETURN n.summary AS summary, n.aliases AS aliases`,
      );
    const before = await globex();
    expect(before).toHaveLength(1);
    for (const scope of [MemoryScope.AGENT, MemoryScope.TASK]) {
      await note(
        `GLOBEX Corporation revenue is 9M after the secret ${scope} merger with Initech.`,
        {
          scope,
          scopeId: randomUUID(),
        },
      );
    }
    await ingestPending();
    expect(await globex()).toEqual(before);
  });
});
