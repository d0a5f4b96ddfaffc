import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../graph/memory/entity.repository.js';
import * as episodes from '../graph/memory/episode.repository.js';
import * as facts from '../graph/memory/fact.repository.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { MemoryHitKind } from '../src/domain/memory-search.js';
import { normaliseName } from '../src/memory/normalise.js';
import { MemorySearch } from '../src/memory/retrieval/search.js';
import { adminView } from '../src/memory/view.js';
import { type TestServer } from './utils/server.js';
import {
  unit,
  ScriptedEmbedder,
  type Seed,
  seedCorpus,
  newTenantIn,
  startSearchServer,
  stopSearchServer,
} from './utils/memory-search-fixtures.js';

/*
 * searchMemory's ranking: BM25 and vectors fused, walks from a focus, MMR, asOf and superseded
 * facts (memory-search-access.int.test.ts: who may see what, GraphQL and the agents' tool).
 */

describe('searchMemory', () => {
  let server: TestServer;
  const embedder = new ScriptedEmbedder();
  let memory: MemorySearch;
  const tenants: string[] = [];
  const newTenant = () => newTenantIn(tenants);
  const seed = (tenantId: string, corpus: Seed) => seedCorpus(server, embedder, tenantId, corpus);

  beforeAll(async () => {
    ({ server, memory } = await startSearchServer(embedder));
  });

  afterAll(() => stopSearchServer(server, tenants));

  it('fuses BM25 and vector ranks by reciprocal rank when the two disagree', async () => {
    const tenantId = newTenant();
    const ids = await seed(tenantId, {
      entities: [{ name: 'Acme' }, { name: 'Globex' }],
      facts: [
        { text: 'Acme quarterly revenue is 12M', subject: 'Acme', vector: [0, 0, 1, 0] },
        { text: 'Acme earnings grew strongly', subject: 'Acme', vector: [1, 0, 0, 0] },
        { text: 'Globex revenue fell to 3M', subject: 'Globex', vector: [1, 1, 0, 0] },
      ],
    });
    embedder.vectors.set('quarterly revenue', unit([1, 0, 0, 0]));
    const hits = await memory.search(tenantId, { query: 'quarterly revenue', view: adminView() });
    const id = (text: string) => ids[text]!;
    // BM25 alone: 12M (both words), then 3M. Vectors alone: earnings, 3M, 12M.
    // Fused: 12M 1/61 + 1/63 > 3M 2/62 > earnings 1/61.
    expect(hits.map((h) => h.id)).toEqual([
      id('Acme quarterly revenue is 12M'),
      id('Globex revenue fell to 3M'),
      id('Acme earnings grew strongly'),
    ]);
    expect(hits.map((h) => h.parts.bm25Rank)).toEqual([1, 2, null]);
    expect(hits.map((h) => h.parts.vectorRank)).toEqual([3, 2, 1]);
    expect(hits[0]!.score).toBeCloseTo(1 / 61 + 1 / 63, 12);
    expect(hits[1]!.score).toBeCloseTo(2 / 62, 12);
    expect(hits[2]!.score).toBeCloseTo(1 / 61, 12);
    expect(hits.every((h) => h.kind === MemoryHitKind.FACT && h.fact?.id === h.id)).toBe(true);
    expect(hits[1]!.fact!.subjectId).toBe(id('Globex'));

    // From a focus entity, its own facts come nearer: the third retriever joins the fusion.
    const focused = await memory.search(tenantId, {
      query: 'quarterly revenue',
      view: adminView(),
      focusId: id('Globex'),
    });
    expect(focused[0]!.id).toBe(id('Globex revenue fell to 3M'));
    expect(focused[0]!.parts.graphDistance).toBe(1);
    expect(focused[0]!.score).toBeCloseTo(3 / 62, 12);
    const globex = focused.find((h) => h.id === id('Globex'))!;
    expect(globex.kind).toBe(MemoryHitKind.ENTITY);
    expect(globex.parts).toMatchObject({ graphDistance: 0, graphRank: 1, bm25Rank: null });
    expect(globex.entity!.name).toBe('Globex');
  });

  it('walks at most 3 hops from a focus agent, nearest first, over the memory edges', async () => {
    const tenantId = newTenant();
    const agentId = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: 'CREATE (:Agent {id: $agentId, tenantId: $tenantId, name: "Walker"})',
        params: { agentId, tenantId },
      }),
    );
    const ids: Record<string, string> = { Soylent: randomUUID(), Fab: randomUUID() };
    await server.services.uow.run(async (tx) => {
      const [episode] = await episodes.mergeEpisodes(tx, tenantId, [
        {
          kind: EpisodeKind.NOTE,
          sourceKey: 'note:walk',
          source: 'note walk',
          content: 'Soylent met Fab',
          occurredAt: null,
          scope: MemoryScope.TENANT,
          scopeId: null,
          agentId,
        },
      ]);
      ids.episode = episode!.id;
      await entities.createEntities(
        tx,
        tenantId,
        ['Soylent', 'Fab'].map((name) => ({
          id: ids[name]!,
          name,
          normName: normaliseName(name),
          type: 'Organisation',
          summary: '',
          aliases: [],
        })),
      );
      await entities.addMentions(tx, tenantId, [
        { episodeId: ids.episode, entityId: ids.Soylent! },
      ]);
      ids.fact = randomUUID();
      await facts.createFacts(tx, tenantId, [
        {
          id: ids.fact,
          subjectId: ids.Soylent!,
          predicate: 'supplies',
          objectId: ids.Fab!,
          value: 'Fab',
          text: 'Soylent supplies Fab',
          confidence: 1,
          validFrom: null,
          episodeIds: [],
        },
      ]);
    });
    const hits = await memory.search(tenantId, {
      query: 'weather',
      view: adminView(),
      focusId: agentId,
    });
    // Agent <-BY- episode <-MENTIONED_IN- Soylent <-SUBJECT- fact -OBJECT-> Fab (4 hops: left out).
    expect(hits.map((h) => [h.id, h.parts.graphDistance, h.parts.graphRank])).toEqual([
      [ids.episode, 1, 1],
      [ids.Soylent, 2, 2],
      [ids.fact, 3, 3],
    ]);
    expect(hits.every((h) => h.parts.bm25Rank === null && h.parts.vectorRank === null)).toBe(true);
  });

  it('with mmr, lets a different fact take the place of a near-duplicate', async () => {
    const tenantId = newTenant();
    const ids = await seed(tenantId, {
      entities: [{ name: 'Hooli' }],
      facts: [
        { text: 'Hooli revenue is 9M', subject: 'Hooli', vector: [1, 0, 0, 0] },
        { text: 'Hooli revenue was 9M', subject: 'Hooli', vector: [1, 0.02, 0, 0] },
        { text: 'Hooli CEO is Gavin', subject: 'Hooli', vector: [0.3, 1, 0, 0] },
      ],
    });
    embedder.vectors.set('Hooli revenue', unit([1, 0, 0, 0]));
    const request = {
      query: 'Hooli revenue',
      view: adminView(),
      first: 2,
      kinds: [MemoryHitKind.FACT],
    };
    const plain = await memory.search(tenantId, request);
    expect(plain.map((h) => h.id).sort()).toEqual(
      [ids['Hooli revenue is 9M']!, ids['Hooli revenue was 9M']!].sort(),
    );
    const diverse = await memory.search(tenantId, { ...request, mmr: true });
    expect(diverse).toHaveLength(2);
    expect(diverse[0]!.id).toBe(plain[0]!.id);
    expect(diverse[1]!.id).toBe(ids['Hooli CEO is Gavin']);
  });

  it('answers asOf before a change with the old fact and after it with the new one', async () => {
    const tenantId = newTenant();
    const ids = await seed(tenantId, {
      entities: [{ name: 'Initech' }],
      facts: [{ text: 'Initech CEO is Alice', subject: 'Initech' }],
    });
    const [alice] = await server.services.uow.read((tx) =>
      facts.factsByIds(tx, tenantId, [ids['Initech CEO is Alice']!]),
    );
    const before = alice!.recordedAt;
    // The change must come later than `before` on the database's clock (a condition, not a pause).
    while (Date.now() <= Date.parse(before) + 2) await new Promise((r) => setTimeout(r, 2));
    const bobId = randomUUID();
    await server.services.uow.run(async (tx) => {
      await facts.createFacts(tx, tenantId, [
        {
          id: bobId,
          subjectId: ids.Initech!,
          predicate: 'ceo',
          objectId: null,
          value: 'Bob',
          text: 'Initech CEO is Bob',
          confidence: 1,
          validFrom: null,
          episodeIds: [],
        },
      ]);
      await facts.endFacts(tx, tenantId, [
        { id: ids['Initech CEO is Alice']!, replacedById: bobId, validUntil: null },
      ]);
    });
    const factIds = async (asOf: string | null) =>
      (
        await memory.search(tenantId, {
          query: 'Initech CEO',
          view: adminView(),
          asOf,
          kinds: [MemoryHitKind.FACT],
        })
      ).map((h) => h.id);
    expect(await factIds(before)).toEqual([ids['Initech CEO is Alice']]);
    expect(await factIds(new Date().toISOString())).toEqual([bobId]);
    expect(await factIds(null)).toEqual([bobId]);
    const yesterday = new Date(Date.parse(before) - 86_400_000).toISOString();
    const all = await memory.search(tenantId, {
      query: 'Initech CEO',
      view: adminView(),
      asOf: yesterday,
    });
    expect(all).toEqual([]);
  });

  it('ranks an episode whose every fact was superseded below one that still holds (bench:memory: stale answers came first)', async () => {
    const tenantId = newTenant();
    // The old episode says it twice, so BM25 alone ranks it first.
    const ids = await seed(tenantId, {
      entities: [{ name: 'Vandelay' }],
      episodes: [
        { key: 'old', content: 'Vandelay CEO is Art. Vandelay CEO Art, Vandelay CEO.' },
        { key: 'new', content: 'Vandelay appointed Kel as CEO.' },
      ],
      facts: [
        { text: 'Vandelay ceo is Art', subject: 'Vandelay', episodes: ['old'] },
        { text: 'Vandelay ceo is Kel', subject: 'Vandelay', episodes: ['new'] },
      ],
    });
    await server.services.uow.run((tx) =>
      facts.endFacts(tx, tenantId, [
        {
          id: ids['Vandelay ceo is Art']!,
          replacedById: ids['Vandelay ceo is Kel']!,
          validUntil: null,
        },
      ]),
    );
    const hits = await memory.search(tenantId, {
      query: 'Vandelay CEO',
      view: adminView(),
      kinds: [MemoryHitKind.EPISODE],
    });
    expect(hits.map((h) => h.id)).toEqual([ids.new, ids.old]);
    expect(hits.map((h) => h.parts.superseded)).toEqual([false, true]);
  });
});
