import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../graph/memory/entity.repository.js';
import * as episodes from '../graph/memory/episode.repository.js';
import * as facts from '../graph/memory/fact.repository.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { operatorTools } from '../src/agents/tools.js';
import type { Agent } from '../src/domain/agent.js';
import { MemoryScope } from '../src/domain/memory.js';
import { MemoryHitKind } from '../src/domain/memory-search.js';
import type { Task } from '../src/domain/task.js';
import { PendingWrites } from '../src/engine/pending-writes.js';
import { llmEnvSchema, llmFromEnv } from '../src/llm/config.js';
import { MemorySearch } from '../src/memory/retrieval/search.js';
import { adminView, agentView } from '../src/memory/view.js';
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
 * searchMemory's boundaries: private memory, other tenants, bad input, the GraphQL field and
 * the operators' search_memory tool (memory-search-ranking.int.test.ts: how hits are ranked).
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

  it('neither starts nor walks through private memory for a view that may not see it', async () => {
    const tenantId = newTenant();
    const ids = await seed(tenantId, {
      episodes: [
        { key: 'secret', content: 'lab notes', scope: MemoryScope.AGENT, scopeId: randomUUID() },
        { key: 'hub', content: 'hub notes' },
        { key: 'far', content: 'far notes' },
      ],
      entities: [{ name: 'Hidden Lab' }, { name: 'Open Hub' }, { name: 'Far Side' }],
      facts: [
        { text: 'Hidden Lab studies quokkas', subject: 'Hidden Lab', episodes: ['secret'] },
        { text: 'Open Hub hosts visitors', subject: 'Open Hub', episodes: ['hub'] },
        { text: 'Far Side sells maps', subject: 'Far Side', episodes: ['far'] },
        // Only a private fact links the hub to the far side.
        { text: 'Open Hub funds', subject: 'Open Hub', object: 'Far Side', episodes: ['secret'] },
      ],
    });
    const shared = adminView([MemoryScope.TENANT]);
    // A private entity is unknown to such a view, as entity(id) says.
    await expect(
      memory.search(tenantId, { query: 'quokkas', view: shared, focusId: ids['Hidden Lab'] }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      memory.search(tenantId, { query: 'quokkas', view: adminView(), focusId: ids['Hidden Lab'] }),
    ).resolves.not.toHaveLength(0);
    const distance = async (view: typeof shared) =>
      (
        await memory.search(tenantId, { query: 'Far Side maps', view, focusId: ids['Open Hub'] })
      ).find((h) => h.id === ids['Far Side'])?.parts.graphDistance;
    expect(await distance(adminView())).toBe(2);
    expect(await distance(shared)).toBeNull();
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
    // Stop words and a lone quote or backslash: searched as written, never a 500.
    for (const query of ['the "', 'of \\']) {
      await expect(memory.search(newTenant(), { query, view: adminView() })).resolves.toEqual([]);
    }
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
