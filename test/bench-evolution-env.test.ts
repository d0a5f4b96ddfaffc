import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENV,
  EvolutionEnv,
  FAMILIES,
  meets,
  type Outcome,
  type TaskSpec,
} from '../bench/evolution-env.js';

const env = (seed = 7, shiftRound = 4) => new EvolutionEnv({ ...DEFAULT_ENV, seed, shiftRound });

/** What the offline model says when its prompt carried nothing but the task. */
const plain = (spec: TaskSpec) => [
  `Execution report (offline model) for "${spec.title}". Step: ${spec.description}`,
];

const outcome = (texts: string[]): Outcome => ({
  completed: true,
  texts,
  steps: [
    { agent: 'Operator A', capability: 'research' },
    { agent: 'Operator B', capability: 'writing' },
  ],
});

describe('the simulated environment of bench:evolution', () => {
  it('meets a hidden rule only when the result carries the knowledge that the feedback gave', () => {
    for (const family of FAMILIES) {
      const spec = {
        round: 0,
        slot: 0,
        n: 1,
        family,
        title: family.title(1),
        description: family.description(1),
      };
      // The task's own words never meet the rule: only learned knowledge can.
      expect(meets(family.rule, [spec.title, spec.description, ...plain(spec)])).toBe(false);
      // A prompt that carried the user's feedback (a lesson), echoed by the model, meets it.
      expect(meets(family.rule, [...plain(spec), `Rules followed: ${family.rule.feedback}`])).toBe(
        true,
      );
    }
  });

  it('changes one family rule at the shift, so the knowledge that was right now fails', () => {
    const e = env(7, 4);
    const shipping = e.shifting!;
    expect(shipping.name).toBe('shipping');
    const before = e.ruleOf(shipping, 3);
    const after = e.ruleOf(shipping, 4);
    expect(after).not.toBe(before);
    const kg = [`Rules followed: ${before.feedback}`];
    const lb = [`Rules followed: ${after.feedback}`];
    expect(meets(before, kg)).toBe(true);
    expect(meets(after, kg)).toBe(false);
    expect(meets(after, lb)).toBe(true);
    // Both the stale lesson and the new one in a prompt: the stale one still spoils it.
    expect(meets(after, [...kg, ...lb])).toBe(false);
    // The other families keep their rules.
    for (const f of e.families.filter((f) => f !== shipping)) {
      expect(e.ruleOf(f, 9)).toBe(f.rule);
    }
  });

  it('answers a missed rule with the rule as a user would say it, and a failed task with a failure', () => {
    const e = new EvolutionEnv({ ...DEFAULT_ENV, seed: 1, shiftRound: -1, luckyPass: 0, flip: 0 });
    const [spec] = e.tasksFor(0, 1);
    const j = e.judge(spec!, outcome(plain(spec!)));
    expect(j).toMatchObject({ success: false, met: false, comment: spec!.family.rule.feedback });
    expect(j.score).toBeLessThan(0.4);
    const failed = e.judge(spec!, { completed: false, texts: [], steps: [] });
    expect(failed).toMatchObject({ score: 0, success: false });
    expect(failed.comment).toMatch(/failed/);
  });

  it('passes results that meet the rule about as often as the agents are skilled, others rarely', () => {
    const e = env(3, -1);
    let met = 0;
    let missed = 0;
    let expected = 0;
    const n = 400;
    for (let round = 0; round < n / 4; round++) {
      for (const spec of e.tasksFor(round, 4)) {
        const good = e.judge(spec, outcome([`Rules: ${spec.family.rule.feedback}`]));
        const bad = e.judge(spec, outcome(plain(spec)));
        expect(good.met).toBe(true);
        expect(bad.met).toBe(false);
        if (good.success) met++;
        if (bad.success) missed++;
        expected += (e.skill('Operator A', 'research') + e.skill('Operator B', 'writing')) / 2;
      }
    }
    const flip = DEFAULT_ENV.flip;
    const p = expected / n;
    // Binomial bounds (about 4 standard deviations) around the stated probabilities.
    expect(Math.abs(met / n - (p * (1 - flip) + (1 - p) * flip))).toBeLessThan(0.1);
    const q = DEFAULT_ENV.luckyPass * (1 - flip) + (1 - DEFAULT_ENV.luckyPass) * flip;
    expect(Math.abs(missed / n - q)).toBeLessThan(0.08);
  });

  it('is deterministic for a seed: the same tasks, skills and judgements, and others for another seed', () => {
    const run = (seed: number) => {
      const e = env(seed);
      return [0, 1, 2].flatMap((round) =>
        e.tasksFor(round, 4).map((spec) => ({
          title: spec.title,
          judgement: e.judge(spec, outcome([`${spec.family.rule.feedback}`])),
          skill: e.skill('Operator A', spec.family.name),
        })),
      );
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });
});

describe("the environment's rating of one step's report", () => {
  it('credits a report that carried the knowledge and tells one that did not what was missing', () => {
    const e = new EvolutionEnv({ ...DEFAULT_ENV, seed: 5, shiftRound: -1, luckyPass: 0, flip: 0 });
    const [spec] = e.tasksFor(0, 1);
    const rule = spec!.family.rule;
    const without = e.judgeReport(spec!, 0, {
      text: plain(spec!)[0]!,
      agent: 'A',
      capability: null,
    });
    expect(without).toMatchObject({ met: false, success: false, comment: rule.feedback });
    const withIt = e.judgeReport(spec!, 1, {
      text: `Rules followed: ${rule.feedback}`,
      agent: 'A',
      capability: null,
    });
    expect(withIt.met).toBe(true);
    expect(withIt.comment).not.toBe(rule.feedback);
  });
});

describe('the real-model families of bench:evolution', () => {
  it('check the numbers a real answer gives against the hidden convention', async () => {
    const { REAL_FAMILIES } = await import('../bench/evolution-real.js');
    const [weight, invoice, workshop] = REAL_FAMILIES;
    const spec = (f: typeof weight, n: number) => ({
      round: 0,
      slot: 0,
      n,
      family: f!,
      title: f!.title(n),
      description: f!.description(n),
    });
    // n = 1: 3 parcels of 10 lb = 30 lb = 13.6 kg = 13608 g.
    expect(weight!.description(1)).toContain('3 parcels of 10 lb');
    expect(meets(weight!.rule, ['The total is 13.6 kg.'], spec(weight, 1))).toBe(true);
    expect(meets(weight!.rule, ['The total is 30 lb.'], spec(weight, 1))).toBe(false);
    expect(meets(weight!.shifted!, ['The total is 13,608 g.'], spec(weight, 1))).toBe(true);
    expect(meets(weight!.shifted!, ['The total is 13.6 kg.'], spec(weight, 1))).toBe(false);
    // n = 1: 4 items at 23 EUR = 92 EUR, 110.40 EUR with VAT.
    expect(invoice!.description(1)).toContain('4 items at 23 EUR');
    expect(meets(invoice!.rule, ['Bill 110.40 EUR.'], spec(invoice, 1))).toBe(true);
    expect(meets(invoice!.rule, ['Bill 92 EUR.'], spec(invoice, 1))).toBe(false);
    // n = 1: 9:15 to 11:20 = 125 minutes.
    expect(meets(workshop!.rule, ['It lasts 125 minutes.'], spec(workshop, 1))).toBe(true);
    expect(meets(workshop!.rule, ['It lasts 2 h 5 min.'], spec(workshop, 1))).toBe(false);
  });
});
