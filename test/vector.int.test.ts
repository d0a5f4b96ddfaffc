import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import {
  countMissingVectors,
  ensureVectorIndexes,
  missingVectors,
  overFetch,
  setVectors,
  vectorIndexName,
  vectorProperty,
  vectorSearch,
} from '../graph/memory/vector.repository.js';
import type { Embedder } from '../src/memory/embeddings/embedder.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { reembed } from '../src/memory/embeddings/reembed.js';
import { normalise } from '../src/memory/embeddings/vectors.js';
import { profiler } from './utils/profile.js';

/** A small vector space of its own, so this suite's index never meets real data's. */
const space = { id: 'test:vector-suite:8', dimensions: 8 };
const unit = (...xs: number[]) => normalise([...xs, ...Array(8 - xs.length).fill(0)]);

describe('vector repository', () => {
  let graph: Graph;
  const small = `vec-small-${randomUUID()}`;
  const big = `vec-big-${randomUUID()}`;
  /** A third tenant of many rows without vectors. */
  const crowd = `vec-crowd-${randomUUID()}`;

  async function episodes(tenantId: string, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    await graph.write((tx) =>
      tx.run({
        cypher: `UNWIND $ids AS id
CREATE (:Episode {id: id, tenantId: $tenantId, content: 'episode ' + id, createdAt: datetime(), updatedAt: datetime()})`,
        params: { ids, tenantId },
      }),
    );
    return ids;
  }

  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    await ensureVectorIndexes(graph, space);
  });

  afterAll(async () => {
    await graph.write((tx) =>
      tx.run({
        cypher: 'MATCH (n:Episode|Entity|Fact) WHERE n.tenantId IN $tenants DETACH DELETE n',
        params: { tenants: [small, big, crowd] },
      }),
    );
    await graph.close();
  });

  it('names properties and indexes from the embedder id with [a-z0-9_] only', () => {
    const local = { id: 'local:all-MiniLM-L6-v2:384', dimensions: 384 };
    expect(vectorProperty(local)).toBe('vec_local_all_minilm_l6_v2_384');
    expect(vectorIndexName('Entity', local)).toBe('entity_vec_local_all_minilm_l6_v2_384');
    const hostile = { id: 'openai:x`}) DETACH DELETE n //:8', dimensions: 8 };
    expect(vectorProperty(hostile)).toMatch(/^vec_[a-z0-9_]+$/);
    const long = (s: string) => ({ id: `openai:${'m'.repeat(80)}${s}:8`, dimensions: 8 });
    expect(vectorProperty(long('a'))).not.toBe(vectorProperty(long('b')));
    expect(() => vectorIndexName('Task', local)).toThrow(/not a label with vectors/);
  });

  it("returns only the tenant's rows, and finds them when another tenant has many more", async () => {
    const mine = await episodes(small, 3);
    const theirs = await episodes(big, overFetch(3) * 3);
    const query = unit(1, 0, 0);
    // The other tenant's rows all sit nearer the query than ours (distinct vectors: an HNSW
    // graph of identical ones is degenerate), so they fill the index's whole over-fetch.
    const near = (i: number) =>
      unit(1, 0, 0, ((i % 7) + 1) / 100, ((i % 11) + 1) / 100, i / 10_000);
    await graph.write((tx) =>
      setVectors(
        tx,
        big,
        'Episode',
        theirs.map((id, i) => ({ id, vector: near(i) })),
        space,
      ),
    );
    await graph.write((tx) =>
      setVectors(
        tx,
        small,
        'Episode',
        [
          { id: mine[0]!, vector: unit(1, 0.2, 0) },
          { id: mine[1]!, vector: unit(1, 1, 0) },
          { id: mine[2]!, vector: unit(0, 0, 1) },
        ],
        space,
      ),
    );
    const hits = await graph.read((tx) => vectorSearch(tx, small, 'Episode', space, query, 3));
    expect(hits.map((h) => h.id)).toEqual(mine);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);

    const theirHits = await graph.read((tx) => vectorSearch(tx, big, 'Episode', space, query, 5));
    expect(theirHits).toHaveLength(5);
    for (const h of theirHits) expect(theirs).toContain(h.id);
  });

  it("answers from an exact scan of the tenant's rows only, whatever another tenant holds", async () => {
    // The tenant's three rows and the other tenant's crowd are there from the test above, so
    // the index's over-fetch yields too few of ours and the exact scan answers.
    const query = unit(1, 0, 0);
    const prof = profiler();
    try {
      const before = await prof.measure((tx) =>
        vectorSearch(tx, small, 'Episode', space, query, 3),
      );
      expect(before.result).toHaveLength(3);
      await episodes(crowd, 3_000);
      const after = await prof.measure((tx) => vectorSearch(tx, small, 'Episode', space, query, 3));
      expect(after.result).toEqual(before.result);
      // Before the fix the scan read every Episode of the database (3,000 more here).
      expect(after.dbHits, `before:\n${before.plans}\nafter:\n${after.plans}`).toBeLessThan(
        before.dbHits + 300,
      );
    } finally {
      await prof.close();
    }
  });

  it("never writes a vector onto another tenant's node", async () => {
    const [other] = await episodes(big, 1);
    await graph.write((tx) =>
      setVectors(tx, small, 'Episode', [{ id: other!, vector: unit(0, 1) }], space),
    );
    const missing = await graph.read((tx) => missingVectors(tx, 'Episode', space, 10, '', big));
    expect(missing.map((m) => m.id)).toContain(other);
  });

  it('re-embeds what lacks a vector, resumably, with the label texts of the contract', async () => {
    const tenant = `vec-reembed-${randomUUID()}`;
    const embedder: Embedder = new OfflineEmbedder(8);
    // The offline embedder at 8 dimensions has a space (and indexes) of its own.
    await ensureVectorIndexes(graph, embedder);
    try {
      await graph.write((tx) =>
        tx.run({
          cypher: `UNWIND range(1, 5) AS i
CREATE (:Entity {id: $tenant + '-e' + i, tenantId: $tenant, name: 'Acme ' + i, summary: 'a company'})
CREATE (:Fact {id: $tenant + '-f' + i, tenantId: $tenant, text: 'Acme ' + i + ' revenue is 12M'})`,
          params: { tenant },
        }),
      );
      const [sample] = await graph.read((tx) =>
        missingVectors(tx, 'Entity', embedder, 1, '', tenant),
      );
      expect(sample!.text).toBe('Acme 1: a company');

      const seen: string[] = [];
      const first = await reembed(graph, embedder, {
        tenantId: tenant,
        batchSize: 2,
        onProgress: (p) => seen.push(`${p.label} ${p.done}/${p.total}`),
      });
      expect(first).toEqual({ Entity: 5, Fact: 5, Episode: 0 });
      expect(seen).toContain('Entity 2/5');
      expect(seen).toContain('Fact 5/5');
      expect(await graph.read((tx) => countMissingVectors(tx, 'Fact', embedder, tenant))).toBe(0);
      // A second run finds nothing left to do.
      expect(await reembed(graph, embedder, { tenantId: tenant })).toEqual({
        Entity: 0,
        Fact: 0,
        Episode: 0,
      });
      const [q] = await embedder.embed(['Acme 3 revenue is 12M']);
      const hits = await graph.read((tx) => vectorSearch(tx, tenant, 'Fact', embedder, q!, 1));
      expect(hits[0]!.id).toBe(`${tenant}-f3`);
    } finally {
      await graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (n:Entity|Fact) WHERE n.tenantId = $tenant DETACH DELETE n',
          params: { tenant },
        }),
      );
    }
  });
});
