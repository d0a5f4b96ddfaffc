/**
 * Fusion of ranked lists and diversity (issue 11). Pure functions: no graph, no model, so the
 * order they produce can be checked by hand.
 */

import { cosine } from '../embeddings/vectors.js';

export { cosine };

/** Reciprocal rank fusion's constant (Cormack et al. 2009; Graphiti uses the same). */
export const RRF_K = 60;

export interface Fused {
  id: string;
  score: number;
}

const byScoreThenId = (a: Fused, b: Fused) =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Reciprocal rank fusion: each id scores the sum of 1 / (k + rank) over the lists it is in
 * (rank 1 first, see ranks()). Best first; equal
 * scores are ordered by id, so the result never depends on the order of the lists.
 */
export function reciprocalRankFusion(
  lists: readonly (readonly string[])[],
  k: number = RRF_K,
): Fused[] {
  if (!(k >= 0)) throw new Error(`k must be 0 or more, but got ${k}`);
  const scores = new Map<string, number>();
  for (const list of lists) {
    for (const [id, rank] of ranks(list)) scores.set(id, (scores.get(id) ?? 0) + 1 / (k + rank));
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort(byScoreThenId);
}

export interface MmrCandidate {
  id: string;
  /** Relevance, e.g. the fused score: higher is better. */
  score: number;
  /** Null when the item has no vector: it then resembles nothing. */
  vector: readonly number[] | null;
}

/** The default trade-off: a little more relevance than diversity. */
export const MMR_LAMBDA = 0.6;

/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998): picks `n` candidates one at a time,
 * each maximising lambda * relevance - (1 - lambda) * (its highest cosine to those picked),
 * relevance being the score over the best score. So a near-duplicate of a picked item loses to
 * a less relevant but different one. Equal values are ordered by id (deterministic).
 */
export function maximalMarginalRelevance<T extends MmrCandidate>(
  candidates: readonly T[],
  n: number,
  lambda: number = MMR_LAMBDA,
): T[] {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`lambda must be 0 to 1, but got ${lambda}`);
  const left = [...candidates].sort(byScoreThenId);
  const top = Math.max(...left.map((c) => c.score), 0);
  const relevance = (c: T) => (top > 0 ? c.score / top : 0);
  const picked: T[] = [];
  const closest = new Map<string, number>(left.map((c) => [c.id, 0]));
  while (picked.length < n && left.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    left.forEach((c, i) => {
      const value = lambda * relevance(c) - (1 - lambda) * closest.get(c.id)!;
      // `left` is in score-then-id order, so the first of equal values wins.
      if (value > bestValue) {
        best = i;
        bestValue = value;
      }
    });
    const [chosen] = left.splice(best, 1);
    picked.push(chosen!);
    if (!chosen!.vector) continue;
    for (const c of left) {
      if (!c.vector) continue;
      closest.set(c.id, Math.max(closest.get(c.id)!, cosine(c.vector, chosen!.vector)));
    }
  }
  return picked;
}

/** Ranks 1..n of ids in the order given; an id listed twice keeps its first (best) rank. */
export function ranks(ids: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  ids.forEach((id) => {
    if (!out.has(id)) out.set(id, out.size + 1);
  });
  return out;
}
