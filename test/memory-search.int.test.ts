import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../graph/memory/entity.repository.js';
import * as episodes from '../graph/memory/episode.repository.js';
import * as facts from '../graph/memory/fact.repository.js';
import { ensureVectorIndexes, setVectors } from '../graph/memory/vector.repository.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { operatorTools } from '../src/agents/tools.js';
import type { Agent } from '../src/domain/agent.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { MemoryHitKind } from '../src/domain/memory-search.js';
import type { Task } from '../src/domain/task.js';
import { PendingWrites } from '../src/engine/pending-writes.js';
import { llmEnvSchema, llmFromEnv } from '../src/llm/config.js';
import type { Embedder } from '../src/memory/embeddings/embedder.js';
import { normaliseName } from '../src/memory/normalise.js';
import { adminView, agentView, MemorySearch } from '../src/memory/retrieval/search.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** An embedder that plays scripted vectors (a loopback model, not a mock of the graph). */
class ScriptedEmbedder implements Embedder {
  readonly id = 'test:scripted-retrieval:4';
  readonly provider = 'offline' as const;
  readonly model = 'scripted-retrieval';
  readonly dimensions = 4;
  readonly offline = true;
  readonly vectors = new Map<string, number[]>();
  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.vectors.get(t) ?? unit([0, 0, 0, 1]));
  }
}

describe('searchMemory', () => {
  let server: TestServer;
  const embedder = new ScriptedEmbedder();
  let memory: MemorySearch;
  const tenants: string[] = [];
  /** Each test works in a tenant of its own, so one corpus never ranks in another's lists. */
  const newTenant = () => {
    const id = `test-memory-${randomUUID()}`;
    tenants.push(id);
    return id;
  };

  type Seed = {
    entities?: { name: string; summary?: string }[];
    episodes?: { key: string; content: string; scope?: MemoryScope; scopeId?: string }[];
    facts?: { text: string; subject: string; episodes?: string[]; vector?: number[] }[];
  };
  /** Writes a small corpus with the lead's repositories; returns ids by name, key and text. */
  async function seed(tenantId: string, corpus: Seed): Promise<Record<string, string>> {
    const ids: Record<string, string> = {};
    await server.services.uow.run(async (tx) => {
      const eps = await episodes.mergeEpisodes(
        tx,
        tenantId,
        (corpus.episodes ?? []).map((e) => ({
          kind: EpisodeKind.NOTE,
          sourceKey: `note:${e.key}`,
          source: `note ${e.key}`,
          content: e.content,
          occurredAt: null,
          scope: e.scope ?? MemoryScope.TENANT,
          scopeId: e.scopeId ?? null,
        })),
      );
      eps.forEach((e, i) => (ids[corpus.episodes![i]!.key] = e.id));
      for (const e of corpus.entities ?? []) ids[e.name] = randomUUID();
      await entities.createEntities(
        tx,
        tenantId,
        (corpus.entities ?? []).map((e) => ({
          id: ids[e.name]!,
          name: e.name,
          normName: normaliseName(e.name),
          type: 'Organisation',
          summary: e.summary ?? '',
          aliases: [],
        })),
      );
      const mentions = (corpus.facts ?? []).flatMap((f) =>
        (f.episodes ?? []).map((k) => ({ episodeId: ids[k]!, entityId: ids[f.subject]! })),
      );
      await entities.addMentions(tx, tenantId, mentions);
      for (const f of corpus.facts ?? []) ids[f.text] = randomUUID();
      await facts.createFacts(
        tx,
        tenantId,
        (corpus.facts ?? []).map((f) => ({
          id: ids[f.text]!,
          subjectId: ids[f.subject]!,
          predicate: 'says',
          objectId: null,
          value: f.text,
          text: f.text,
          confidence: 1,
          validFrom: null,
          episodeIds: (f.episodes ?? []).map((k) => ids[k]!),
        })),
      );
      const withVectors = (corpus.facts ?? []).filter((f) => f.vector);
      await setVectors(
        tx,
        tenantId,
        'Fact',
        withVectors.map((f) => ({ id: ids[f.text]!, vector: unit(f.vector!) })),
        embedder,
      );
    });
    return ids;
  }

  beforeAll(async () => {
    server = await startTestServer();
    await ensureVectorIndexes(server.graph, embedder);
    memory = new MemorySearch({ uow: server.services.uow, embedder, logger: server.logger });
  });

  afterAll(async () => {
    for (const t of tenants) await deleteTenant(server.graph, t);
    await server?.stop();
  });

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

  it("keeps an agent's private memory, and the entities and facts learned from it, from other agents", async () => {
    const tenantId = newTenant();
    const [agentX, agentY, taskT] = [randomUUID(), randomUUID(), randomUUID()];
    const ids = await seed(tenantId, {
      episodes: [
        {
          key: 'private',
          content: 'Zebra budget is 5M',
          scope: MemoryScope.AGENT,
          scopeId: agentX,
        },
        { key: 'task', content: 'Zebra task note', scope: MemoryScope.TASK, scopeId: taskT },
        { key: 'shared', content: 'Zebra crossing is shared' },
      ],
      entities: [{ name: 'Zebra Project' }],
      facts: [
        { text: 'Zebra Project budget is 5M', subject: 'Zebra Project', episodes: ['private'] },
      ],
    });
    const seen = async (view: ReturnType<typeof adminView>) =>
      (await memory.search(tenantId, { query: 'zebra', view })).map((h) => h.id).sort();
    const sorted = (...keys: string[]) => keys.map((k) => ids[k]!).sort();

    expect(await seen(agentView(agentY, []))).toEqual(sorted('shared'));
    expect(await seen(agentView(agentY, [taskT]))).toEqual(sorted('shared', 'task'));
    expect(await seen(agentView(agentX, []))).toEqual(
      sorted('shared', 'private', 'Zebra Project', 'Zebra Project budget is 5M'),
    );
    expect(await seen(adminView())).toEqual(
      sorted('shared', 'private', 'task', 'Zebra Project', 'Zebra Project budget is 5M'),
    );
    expect(await seen(adminView([MemoryScope.TENANT]))).toEqual(sorted('shared'));

    const [fact] = await memory.search(tenantId, {
      query: 'budget',
      view: agentView(agentX, []),
      kinds: [MemoryHitKind.FACT],
    });
    expect(fact!.provenance).toEqual({
      episodeIds: [ids.private],
      sources: ['note private'],
      runIds: [],
    });
  });

  it("never returns another tenant's memory, nor walks from another tenant's focus node", async () => {
    const mine = newTenant();
    const theirs = newTenant();
    await seed(mine, { episodes: [{ key: 'mine', content: 'Umbrella launch notes' }] });
    const their = await seed(theirs, {
      episodes: [{ key: 'theirs', content: 'Umbrella secret formula' }],
      entities: [{ name: 'Umbrella Corp' }],
      facts: [
        { text: 'Umbrella formula is secret', subject: 'Umbrella Corp', vector: [1, 0, 0, 0] },
      ],
    });
    embedder.vectors.set('Umbrella', unit([1, 0, 0, 0]));
    const hits = await memory.search(mine, { query: 'Umbrella', view: adminView() });
    expect(hits.map((h) => h.text)).toEqual(['Umbrella launch notes']);
    await expect(
      memory.search(mine, {
        query: 'Umbrella',
        view: adminView(),
        focusId: their['Umbrella Corp'],
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      memory.search(mine, { query: 'Umbrella', view: adminView(), focusId: randomUUID() }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses bad input with what to fix, and private scopes to keys that are not ADMIN', async () => {
    await expect(memory.search(newTenant(), { query: ' ', view: adminView() })).rejects.toThrow(
      /query must be 1 to 500 characters, but got 0/,
    );
    await expect(
      memory.search(newTenant(), { query: 'x', view: adminView(), first: 500 }),
    ).rejects.toThrow(/first must be between 1 and 50, but got 500/);
    await expect(
      memory.search(newTenant(), { query: 'x', view: adminView(), asOf: 'yesterday' }),
    ).rejects.toThrow(/asOf must be an ISO date-time, but got "yesterday"/);
    const viewer = await server.keyFor('VIEWER' as never);
    const res = await server.gql(
      'query { searchMemory(query: "x", scopes: [AGENT]) { id } }',
      {},
      { authorization: `Bearer ${viewer}` },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('answers over GraphQL with score parts and provenance', async () => {
    await seed(server.tenantId, {
      episodes: [{ key: 'gql', content: 'Vandelay Industries imports latex' }],
      entities: [{ name: 'Vandelay Industries', summary: 'An importer of latex' }],
      facts: [
        {
          text: 'Vandelay Industries imports latex',
          subject: 'Vandelay Industries',
          episodes: ['gql'],
        },
      ],
    });
    const res = await server.gql(
      `query { searchMemory(query: "Vandelay latex", first: 5) {
        kind id text score
        parts { bm25Rank bm25Score vectorRank vectorScore graphDistance graphRank }
        provenance { episodeIds sources runIds }
        entity { name summary } fact { text predicate }
      } }`,
    );
    expect(res.errors).toBeUndefined();
    const hits = (res.data as { searchMemory: Record<string, any>[] }).searchMemory;
    expect(hits.map((h) => h.kind).sort()).toEqual(['ENTITY', 'EPISODE', 'FACT']);
    const fact = hits.find((h) => h.kind === 'FACT')!;
    expect(fact.fact).toEqual({ text: 'Vandelay Industries imports latex', predicate: 'says' });
    expect(fact.parts.bm25Rank).toBeGreaterThan(0);
    expect(fact.provenance.sources).toEqual(['note gql']);
    expect(hits.find((h) => h.kind === 'ENTITY')!.entity.summary).toBe('An importer of latex');
  });

  it('gives an operator a search_memory tool whose hits are linked APPLIED_IN its run', async () => {
    const tenantId = server.tenantId;
    const ids = await seed(tenantId, {
      entities: [{ name: 'Pendant Publishing' }],
      facts: [{ text: 'Pendant Publishing prints books', subject: 'Pendant Publishing' }],
    });
    const runId = randomUUID();
    const agentId = randomUUID();
    const taskId = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: 'CREATE (:Run {id: $runId, tenantId: $tenantId, status: "RUNNING"})',
        params: { runId, tenantId },
      }),
    );
    const rt = createAgentRuntime({
      uow: server.services.uow,
      llm: llmFromEnv(llmEnvSchema.parse({})),
      logger: server.logger,
      embedder,
    });
    const abort = new AbortController();
    const writes = new PendingWrites(abort.signal);
    const step = {
      task: { id: taskId, tenantId, title: 'Find publishers' } as Task,
      agent: { id: agentId, name: 'Researcher' } as Agent,
      run: { id: runId, attempt: 1 },
      inputs: {},
      signal: abort.signal,
      writes,
    };
    const tool = operatorTools(rt, step, randomUUID(), null).find(
      (t) => t.name === 'search_memory',
    )!;
    const answer = String(await tool.invoke({ query: 'Pendant Publishing' }));
    expect(answer).toContain('(fact) Pendant Publishing prints books');
    expect(answer).toContain('(entity) Pendant Publishing (Organisation)');
    expect(writes.labels).toEqual(['search_memory applied']);
    await server.services.uow.run((tx, emit) => writes.apply(tx, emit));
    const applied = await server.graph.read((tx) =>
      tx.run<{ id: string }>({
        cypher:
          'MATCH (n)-[:APPLIED_IN]->(:Run {id: $runId, tenantId: $tenantId}) RETURN n.id AS id ORDER BY id',
        params: { runId, tenantId },
      }),
    );
    expect(applied.map((r) => r.id)).toEqual(
      [ids['Pendant Publishing']!, ids['Pendant Publishing prints books']!].sort(),
    );
  });
});
