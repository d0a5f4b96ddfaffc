import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { candidateDraw, lessonSection, pickLessons } from '../src/evolution/lessons/retrieve.js';
import { decide, efficacyOf, newcombe, wilson } from '../src/evolution/lessons/stats.js';
import { nearCopy, ruleSimilarity, tidyRule } from '../src/evolution/lessons/text.js';
import { offlineRule, rulesFollowedLine } from '../src/llm/offline-lessons.js';
import { imperative } from '../src/llm/offline-rules.js';

describe('lesson statistics', () => {
  it('give the Wilson score interval of a proportion', () => {
    // 7 of 10 at z = 1.96: the textbook interval [0.3968, 0.8922].
    const w = wilson(7, 10);
    expect(w.low).toBeCloseTo(0.396774, 5);
    expect(w.high).toBeCloseTo(0.892207, 5);
    expect(wilson(0, 10).low).toBe(0);
    expect(wilson(10, 10).high).toBe(1);
  });

  it("give Newcombe's hybrid score interval for a difference of proportions", () => {
    // Newcombe (1998), example (a): 56/70 against 48/80 gives delta 0.2 in [0.0524, 0.3339].
    const d = newcombe({ n: 70, successes: 56 }, { n: 80, successes: 48 });
    expect(d.delta).toBeCloseTo(0.2, 10);
    expect(d.low).toBeCloseTo(0.0524, 4);
    expect(d.high).toBeCloseTo(0.3339, 4);
    // Example (d)-like extremes stay inside [-1, 1].
    const e = newcombe({ n: 10, successes: 10 }, { n: 10, successes: 0 });
    expect(e.delta).toBe(1);
    expect(e.high).toBeLessThanOrEqual(1);
    expect(e.low).toBeGreaterThan(0);
  });

  it('leave delta and its interval null while an arm has no run', () => {
    expect(efficacyOf({ n: 0, successes: 0 }, { n: 5, successes: 2 })).toEqual({
      applied: 0,
      appliedSuccesses: 0,
      notApplied: 5,
      notAppliedSuccesses: 2,
      delta: null,
      low: null,
      high: null,
    });
  });

  it('promote a candidate only after enough applications with a lower bound above 0, retire what hurts or drifted', () => {
    const helps = efficacyOf({ n: 8, successes: 8 }, { n: 10, successes: 2 });
    expect(helps.low!).toBeGreaterThan(0);
    expect(decide('CANDIDATE', helps, 5).to).toBe('ACTIVE');
    expect(decide('CANDIDATE', helps, 9).to).toBeNull();
    const hurts = efficacyOf({ n: 8, successes: 0 }, { n: 10, successes: 9 });
    expect(decide('CANDIDATE', hurts, 5)).toMatchObject({ to: 'RETIRED' });
    expect(decide('ACTIVE', hurts, 5).reason).toMatch(/^it hurts/);
    const drifted = efficacyOf({ n: 10, successes: 0 }, { n: 10, successes: 10 });
    const unclear = efficacyOf({ n: 3, successes: 2 }, { n: 0, successes: 0 });
    expect(decide('ACTIVE', unclear, 5, drifted).reason).toMatch(/^the world changed/);
    // A candidate drifts too: its whole history can still look good long after the world changed
    // (bench:evolution's shift kept a stale "Give weights in kg." alive as a CANDIDATE).
    expect(decide('CANDIDATE', unclear, 5, drifted).reason).toMatch(/^the world changed/);
    expect(decide('CANDIDATE', unclear, 5).to).toBeNull();
  });
});

describe('lesson texts', () => {
  it('treat a rule and its "Always" form as near-copies, a different unit as another rule', () => {
    expect(ruleSimilarity('Give weights in kg.', 'Always give the weights in kg')).toBe(1);
    expect(ruleSimilarity('Give weights in kg.', 'Give weights in lb.')).toBeLessThan(0.8);
    const lessons = [
      { id: 'a', content: 'Give weights in lb.' },
      { id: 'b', content: 'Give weights in kg.' },
    ];
    expect(nearCopy('Always give weights in kg', lessons)?.id).toBe('b');
    expect(nearCopy('Cite the source of every figure', lessons)).toBeUndefined();
    expect(tidyRule('  give weights in kg ')).toBe('Give weights in kg.');
  });

  it('turn feedback into an imperative rule on the offline model', () => {
    expect(imperative('The answer must give weights in kg.')).toBe('Give weights in kg.');
    expect(imperative('The report should not cite Wikipedia')).toBe('Never cite Wikipedia.');
    expect(imperative('The delivery date is missing')).toBe('Always include delivery date.');
    expect(imperative('Avoid rounding the totals')).toBe('Avoid rounding the totals.');
    expect(imperative('Nice work overall')).toBeNull();
    const input =
      'Reflect: a run failed.\nFailed run: x\n\nFeedback:\n- Nice work overall. The answer must give weights in kg.\n';
    expect(offlineRule(input).rule).toBe('Give weights in kg.');
    expect(offlineRule('Reflect: x\n\nFeedback:\n- none given\n').rule).toBeNull();
  });
});

describe('lessons in prompts', () => {
  const lesson = (id: string, status: 'ACTIVE' | 'CANDIDATE', content = `Rule ${id}.`) => ({
    id,
    status,
    content,
  });

  it('draw a candidate for a run the same way every time, for about the configured share of runs', () => {
    const id = randomUUID();
    expect(candidateDraw('run-1', id)).toBe(candidateDraw('run-1', id));
    const runs = Array.from({ length: 4000 }, () => randomUUID());
    for (const share of [0.1, 0.5, 0.9]) {
      const got = runs.filter((r) => candidateDraw(r, id) < share).length / runs.length;
      // Binomial: 4000 draws, 5 standard deviations either side.
      const sd = Math.sqrt((share * (1 - share)) / runs.length);
      expect(Math.abs(got - share)).toBeLessThan(5 * sd);
    }
  });

  it('give ACTIVE lessons to every run and candidates by their draw, within the count and characters', () => {
    const lessons = [lesson('a', 'ACTIVE'), lesson('b', 'ACTIVE'), lesson('c', 'CANDIDATE')];
    const budget = { count: 5, chars: 1000, candidateShare: 0 };
    expect(pickLessons(lessons, 'r', budget).map((l) => l.id)).toEqual(['a', 'b']);
    expect(pickLessons(lessons, 'r', { ...budget, candidateShare: 1 }).map((l) => l.id)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(pickLessons(lessons, 'r', { ...budget, count: 1, candidateShare: 1 })).toHaveLength(1);
    const long = [lesson('x', 'ACTIVE', 'x'.repeat(900)), lesson('y', 'ACTIVE', 'y'.repeat(200))];
    expect(pickLessons(long, 'r', budget).map((l) => l.id)).toEqual(['x']);
  });

  it('state lessons as rules the offline model follows', () => {
    const section = lessonSection([lesson('a', 'ACTIVE', 'Give weights in kg.')]);
    expect(section).toContain('Rules to follow:\n- Give weights in kg.\n');
    expect(rulesFollowedLine(`${section}Step: Weigh the parcels`)).toBe(
      'Rules followed: Give weights in kg.',
    );
    expect(rulesFollowedLine('Step: Weigh the parcels')).toBe('');
  });
});
