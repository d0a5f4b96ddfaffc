import * as search from '../../../graph/memory/search.repository.js';
import { vectorProperty, vectorSearch } from '../../../graph/memory/vector.repository.js';
import { BadInputError, NotFoundError } from '../../domain/errors.js';
import { MemoryScope } from '../../domain/memory.js';
import {
  LABEL_OF_KIND,
  MemoryHitKind,
  type MemoryHit,
  type MemoryLabel,
  type MemoryRef,
  type MemoryView,
} from '../../domain/memory-search.js';
import { isId, LIMITS, requiredText } from '../../domain/validate.js';
import type { Logger } from '../../logger.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import type { Embedder } from '../embeddings/embedder.js';
import { ALL_SCOPES } from '../view.js';
import { maximalMarginalRelevance, MMR_LAMBDA, ranks, reciprocalRankFusion } from './fuse.js';

export interface MemorySearchRequest {
  query: string;
  /** An Agent, Task or Entity of the tenant to measure graph distance from. */
  focusId?: string | null;
  /** ISO time: what was valid and known then; null for now. */
  asOf?: string | null;
  view: MemoryView;
  /** 1 to MAX_HITS; DEFAULT_HITS when unset. */
  first?: number | null;
  /** Diversify the hits with maximal marginal relevance. */
  mmr?: boolean | null;
  /** The kinds of hit wanted; all when unset. */
  kinds?: readonly MemoryHitKind[] | null;
  /** Ends the embedder's calls (a cancelled step's); the search then rejects with its reason. */
  signal?: AbortSignal;
}

export const DEFAULT_HITS = 10;
export const MAX_HITS = 50;
/** How far the graph retriever walks from the focus node. */
export const MAX_HOPS = 3;
/** The share of its fused score a superseded episode keeps. */
export const SUPERSEDED_WEIGHT = 0.5;
/** How many nodes one walk may visit in all: a hub cannot make a search expensive. */
export const WALK_BUDGET = 2_000;

const KIND_OF_LABEL: Record<MemoryLabel, MemoryHitKind> = {
  Entity: MemoryHitKind.ENTITY,
  Fact: MemoryHitKind.FACT,
  Episode: MemoryHitKind.EPISODE,
  Knowledge: MemoryHitKind.KNOWLEDGE,
};
const VECTOR_KINDS = [MemoryHitKind.ENTITY, MemoryHitKind.FACT, MemoryHitKind.EPISODE];

/** A candidate of one retriever: its ref and its own score (bm25, cosine or -distance). */
type Found = search.ScoredRef;

/**
 * Hybrid memory search (issue 11): BM25 (the tenant inside the Lucene query), vector
 * similarity (the process's embedder; skipped when there is none or it fails) and graph
 * distance from a focus node, each keeping only what the view may see at `asOf`, fused with
 * reciprocal rank fusion (k = 60), optionally diversified with MMR. Deterministic: ties go by id.
 */
export class MemorySearch {
  constructor(
    private readonly deps: { uow: UnitOfWork; embedder?: Embedder | null; logger?: Logger },
  ) {}

  /** Throws BAD_USER_INPUT for a bad query, first, asOf or scopes; NOT_FOUND for a focusId not of the tenant. */
  async search(tenantId: string, request: MemorySearchRequest): Promise<MemoryHit[]> {
    const query = requiredText('query', request.query, LIMITS.search);
    const first = request.first ?? DEFAULT_HITS;
    if (!Number.isInteger(first) || first < 1 || first > MAX_HITS) {
      throw new BadInputError(`first must be between 1 and ${MAX_HITS}, but got ${first}`, {
        field: 'first',
      });
    }
    const asOf = checkAsOf(request.asOf ?? null);
    const view = checkView(request.view);
    const kinds = new Set(request.kinds?.length ? request.kinds : Object.values(MemoryHitKind));
    // Knowledge items are the tenant's: a view without TENANT never sees them.
    if (!view.scopes.includes(MemoryScope.TENANT)) kinds.delete(MemoryHitKind.KNOWLEDGE);
    const pool = Math.min(100, Math.max(30, first * 3));

    const focus = await this.focus(tenantId, request.focusId ?? null, view);
    const [bm25, vector, graph] = await Promise.all([
      this.deps.uow.read((tx) =>
        search.bm25Memory(tx, tenantId, query, pool * 2, kinds.has(MemoryHitKind.KNOWLEDGE)),
      ),
      this.vectorCandidates(tenantId, query, kinds, pool, request.signal),
      focus ? this.walk(tenantId, focus, view) : Promise.resolve([]),
    ]);
    const wanted = (f: Found) => kinds.has(KIND_OF_LABEL[f.label]);
    const lists = { bm25: bm25.filter(wanted), vector: vector.filter(wanted), graph };

    const refs = new Map<string, MemoryRef>();
    for (const f of [...lists.bm25, ...lists.vector, ...lists.graph]) {
      if (wanted(f)) refs.set(f.id, { label: f.label, id: f.id });
    }
    const withVectors =
      request.mmr && this.deps.embedder ? vectorProperty(this.deps.embedder) : null;
    const items = new Map(
      (
        await this.deps.uow.read((tx) =>
          search.visibleItems(tx, tenantId, [...refs.values()], view, asOf, withVectors),
        )
      ).map((i) => [i.id, i]),
    );

    // Ranks over what the viewer may see: a hidden item never pushes a visible one down.
    const visible = (list: Found[]) => list.filter((f) => items.has(f.id)).slice(0, pool);
    const bm25Seen = visible(lists.bm25);
    const vectorSeen = visible(lists.vector);
    const graphSeen = visible(lists.graph);
    const bm25Ranks = ranks(bm25Seen.map((f) => f.id));
    const vectorRanks = ranks(vectorSeen.map((f) => f.id));
    const graphRanks = ranks(graphSeen.map((f) => f.id));
    const scoreOf = (list: Found[]) => new Map(list.map((f) => [f.id, f.score]));
    const bm25Scores = scoreOf(bm25Seen);
    const vectorScores = scoreOf(vectorSeen);
    const distances = scoreOf(graphSeen);

    // What no longer holds gives way to what does: a superseded episode keeps a share of its score.
    let fused = reciprocalRankFusion([
      [...bm25Ranks.keys()],
      [...vectorRanks.keys()],
      [...graphRanks.keys()],
    ])
      .map((f) => (items.get(f.id)!.superseded ? { ...f, score: f.score * SUPERSEDED_WEIGHT } : f))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    if (request.mmr) {
      const vectors = await this.vectorsFor(fused.slice(0, pool), items, request.signal);
      fused = maximalMarginalRelevance(
        fused.slice(0, pool).map((f) => ({ ...f, vector: vectors.get(f.id) ?? null })),
        first,
        MMR_LAMBDA,
      );
    }
    return fused.slice(0, first).map(({ id, score }) => {
      const item = items.get(id)!;
      return {
        kind: KIND_OF_LABEL[item.label],
        id,
        text: item.text,
        score,
        parts: {
          bm25Rank: bm25Ranks.get(id) ?? null,
          bm25Score: bm25Scores.get(id) ?? null,
          vectorRank: vectorRanks.get(id) ?? null,
          vectorScore: vectorScores.get(id) ?? null,
          graphDistance: distances.get(id) ?? null,
          graphRank: graphRanks.get(id) ?? null,
          superseded: item.superseded,
        },
        provenance: { episodeIds: item.episodeIds, sources: item.sources, runIds: item.runIds },
        entity: item.entity,
        fact: item.fact,
      };
    });
  }

  private async focus(tenantId: string, focusId: string | null, view: MemoryView) {
    if (focusId === null) return null;
    // Another tenant's id, a private entity the view may not see and an unknown id: one answer.
    const node = isId(focusId)
      ? await this.deps.uow.read((tx) => search.focusNode(tx, tenantId, focusId, view))
      : null;
    if (!node) throw new NotFoundError('The focus node (an agent, task or entity)', focusId);
    return node;
  }

  /** Memory items within MAX_HOPS of the focus, nearest first (ties by id); score = distance. */
  private async walk(tenantId: string, focus: search.WalkRef, view: MemoryView): Promise<Found[]> {
    return this.deps.uow.read(async (tx) => {
      const found: Found[] = [];
      if (focus.label === 'Entity') found.push({ label: 'Entity', id: focus.id, score: 0 });
      const seen = [focus.id];
      let frontier = [focus];
      for (let hop = 1; hop <= MAX_HOPS && frontier.length > 0; hop++) {
        const budget = WALK_BUDGET - seen.length;
        const next = await search.walkHop(tx, tenantId, frontier, seen, budget, view);
        for (const n of next) {
          seen.push(n.id);
          if (n.label in KIND_OF_LABEL) {
            found.push({ label: n.label as MemoryLabel, id: n.id, score: hop });
          }
        }
        frontier = next;
      }
      return found.sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1));
    });
  }

  /** The nearest entities, facts and episodes to the query's vector, merged by cosine. */
  private async vectorCandidates(
    tenantId: string,
    query: string,
    kinds: Set<MemoryHitKind>,
    pool: number,
    signal?: AbortSignal,
  ): Promise<Found[]> {
    const embedder = this.deps.embedder;
    const labels = VECTOR_KINDS.filter((k) => kinds.has(k)).map((k) => LABEL_OF_KIND[k]);
    if (!embedder || labels.length === 0) return [];
    try {
      const [vector] = await embedder.embed([query], signal);
      const hits = await this.deps.uow.read(async (tx) => {
        const out: Found[] = [];
        for (const label of labels) {
          const rows = await vectorSearch(tx, tenantId, label, embedder, vector!, pool);
          out.push(...rows.map((r) => ({ label, id: r.id, score: r.score })));
        }
        return out;
      });
      return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    } catch (err) {
      if (signal?.aborted) throw err;
      // The other retrievers still answer: a search without vectors beats no search.
      this.deps.logger?.warn(
        { err, embedder: embedder.id },
        'memory search: vector retrieval skipped',
      );
      return [];
    }
  }

  /** Stored vectors of the candidates; the rest (knowledge, not yet embedded) embedded now. */
  private async vectorsFor(
    candidates: { id: string }[],
    items: Map<string, search.VisibleItem>,
    signal?: AbortSignal,
  ): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    const missing: search.VisibleItem[] = [];
    for (const c of candidates) {
      const item = items.get(c.id)!;
      if (item.vector) out.set(c.id, item.vector);
      else missing.push(item);
    }
    const embedder = this.deps.embedder;
    if (!embedder || missing.length === 0) return out;
    try {
      const vectors = await embedder.embed(
        missing.map((m) => m.text.slice(0, 2_000)),
        signal,
      );
      missing.forEach((m, i) => out.set(m.id, vectors[i]!));
    } catch (err) {
      if (signal?.aborted) throw err;
      this.deps.logger?.warn({ err }, 'memory search: MMR without vectors for some candidates');
    }
    return out;
  }
}

function checkAsOf(asOf: string | null): string | null {
  if (asOf === null) return null;
  const time = Date.parse(asOf);
  if (Number.isNaN(time)) {
    throw new BadInputError(`asOf must be an ISO date-time, but got "${asOf}"`, { field: 'asOf' });
  }
  return new Date(time).toISOString();
}

function checkView(view: MemoryView): MemoryView {
  const scopes = [...new Set(view.scopes)];
  if (scopes.length === 0) {
    throw new BadInputError(
      `scopes must name at least one of ${ALL_SCOPES.join(', ')}, or be left out, but got []`,
      { field: 'scopes' },
    );
  }
  return { ...view, scopes };
}
