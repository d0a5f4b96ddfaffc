import { describe, expect, it } from 'vitest';
import {
  maximalMarginalRelevance,
  reciprocalRankFusion,
  ranks,
} from '../src/memory/retrieval/fuse.js';

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('reciprocal rank fusion', () => {
  it('orders ids by the sum of 1 / (60 + rank) over the lists', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['c', 'a', 'd'],
    ]);
    expect(fused.map((f) => f.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fused[0]!.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(fused[1]!.score).toBeCloseTo(1 / 61 + 1 / 63, 12);
    expect(fused[2]!.score).toBeCloseTo(1 / 62, 12);
    expect(fused[3]!.score).toBeCloseTo(1 / 63, 12);
  });

  it('lets an item found by two retrievers beat one that only one retriever ranks first', () => {
    const fused = reciprocalRankFusion([
      ['only-bm25', 'both'],
      ['only-vector', 'both'],
    ]);
    expect(fused[0]!.id).toBe('both');
  });

  it('breaks equal scores by id, whatever the order of the lists', () => {
    const one = reciprocalRankFusion([
      ['y', 'x'],
      ['x', 'y'],
    ]);
    const other = reciprocalRankFusion([
      ['x', 'y'],
      ['y', 'x'],
    ]);
    expect(one.map((f) => f.id)).toEqual(['x', 'y']);
    expect(other).toEqual(one);
  });

  it('counts an id listed twice in one list once, at its first rank', () => {
    expect(ranks(['a', 'b', 'a', 'c'])).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]),
    );
    const fused = reciprocalRankFusion([['a', 'a', 'b']]);
    expect(fused).toEqual([
      { id: 'a', score: 1 / 61 },
      { id: 'b', score: 1 / 62 },
    ]);
  });

  it('uses the k it is given and refuses a negative one', () => {
    expect(reciprocalRankFusion([['a']], 0)[0]!.score).toBe(1);
    expect(() => reciprocalRankFusion([['a']], -1)).toThrow(/k must be 0 or more, but got -1/);
  });
});

describe('maximal marginal relevance', () => {
  const candidates = [
    { id: 'acme-revenue', score: 1, vector: unit([1, 0, 0]) },
    { id: 'acme-revenue-again', score: 0.95, vector: unit([1, 0.02, 0]) },
    { id: 'acme-ceo', score: 0.5, vector: unit([0, 1, 0]) },
    { id: 'no-vector', score: 0.4, vector: null },
  ];

  it('drops a near-duplicate of a picked item for a less relevant, different one', () => {
    const picked = maximalMarginalRelevance(candidates, 2, 0.6);
    expect(picked.map((c) => c.id)).toEqual(['acme-revenue', 'acme-ceo']);
  });

  it('with lambda 1 keeps the relevance order', () => {
    const picked = maximalMarginalRelevance(candidates, 3, 1);
    expect(picked.map((c) => c.id)).toEqual(['acme-revenue', 'acme-revenue-again', 'acme-ceo']);
  });

  it('treats an item without a vector as like nothing, and stops when candidates run out', () => {
    const picked = maximalMarginalRelevance(candidates, 10, 0.6);
    expect(picked.map((c) => c.id)).toEqual([
      'acme-revenue',
      'acme-ceo',
      'no-vector',
      'acme-revenue-again',
    ]);
  });

  it('breaks ties by id and refuses a lambda outside 0 to 1', () => {
    const same = [
      { id: 'b', score: 1, vector: null },
      { id: 'a', score: 1, vector: null },
    ];
    expect(maximalMarginalRelevance(same, 2).map((c) => c.id)).toEqual(['a', 'b']);
    expect(() => maximalMarginalRelevance(same, 1, 1.5)).toThrow(/lambda must be 0 to 1/);
  });
});
