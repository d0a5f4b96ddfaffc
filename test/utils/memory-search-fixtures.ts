import { randomUUID } from 'node:crypto';
import * as entities from '../../graph/memory/entity.repository.js';
import * as episodes from '../../graph/memory/episode.repository.js';
import * as facts from '../../graph/memory/fact.repository.js';
import { ensureVectorIndexes, setVectors } from '../../graph/memory/vector.repository.js';
import { EpisodeKind, MemoryScope } from '../../src/domain/memory.js';
import type { Embedder } from '../../src/memory/embeddings/embedder.js';
import { normaliseName } from '../../src/memory/normalise.js';
import { MemorySearch } from '../../src/memory/retrieval/search.js';
import { deleteTenant, startTestServer, type TestServer } from './server.js';

/*
 * The memory search suites' fixtures: an embedder of scripted vectors, a small corpus written
 * with the lead's repositories, and a server with its vector indexes and a MemorySearch.
 */

export const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** An embedder that plays scripted vectors (a loopback model, not a mock of the graph). */
export class ScriptedEmbedder implements Embedder {
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

export type Seed = {
  entities?: { name: string; summary?: string }[];
  episodes?: { key: string; content: string; scope?: MemoryScope; scopeId?: string }[];
  facts?: {
    text: string;
    subject: string;
    /** An entity named in `entities`: the fact's OBJECT. */
    object?: string;
    episodes?: string[];
    vector?: number[];
  }[];
};

/** Writes a small corpus with the lead's repositories; returns ids by name, key and text. */
export async function seedCorpus(
  server: TestServer,
  embedder: Embedder,
  tenantId: string,
  corpus: Seed,
): Promise<Record<string, string>> {
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
        objectId: f.object ? ids[f.object]! : null,
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

/** Each test works in a tenant of its own (kept in `tenants`), so no corpus ranks in another's. */
export function newTenantIn(tenants: string[]): string {
  const id = `test-memory-${randomUUID()}`;
  tenants.push(id);
  return id;
}

export async function startSearchServer(embedder: Embedder) {
  const server = await startTestServer();
  await ensureVectorIndexes(server.graph, embedder);
  const memory = new MemorySearch({ uow: server.services.uow, embedder, logger: server.logger });
  return { server, memory };
}

/** Deletes the tests' tenants, then stops the server. */
export async function stopSearchServer(server: TestServer | undefined, tenants: string[]) {
  for (const t of tenants) await deleteTenant(server!.graph, t);
  await server?.stop();
}
