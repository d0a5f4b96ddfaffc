/**
 * The simulated world of `npm run bench:evolution` (issue 12). Never imported by src/: nothing
 * in the platform knows these rules; it can only learn them from the feedback below.
 *
 * - Recurring task families (4 by default). Every task of a family has a HIDDEN SUCCESS RULE
 *   that a result meets only when the run's prompt carried one piece of knowledge: a unit
 *   ("weights in kg"), a source to use instead of a tempting one, a required section, a step
 *   to take first. The rule is checked on the text the platform produced (the root task's
 *   answer and its steps' reports): its required words must appear and its forbidden words must
 *   not. The task's own title and description never contain those words, so a run meets the
 *   rule only when something (a lesson, a skill, a revised prompt) put them into its prompt and
 *   the model followed it. The offline model follows what its prompt tells it and says so.
 * - Hidden skill per agent and capability: P(pass | rule met) = the mean skill of the agents that
 *   ran the task's steps, each drawn once per seed, uniform in [skillLow, skillHigh].
 * - Noise: a result that misses the rule still passes with probability `luckyPass` (the user did
 *   not mind this time); any verdict flips with probability `flip`. Scores are drawn inside the
 *   verdict's band: PASS 0.7..1, PARTIAL 0.4..0.7 (rule met but unlucky), FAIL 0.05..0.35.
 * - Feedback as a user would give it: the failed rule in one sentence ("The answer must give
 *   weights in kg."), sent through the API as rateTask(taskId, score, comment) for the answer,
 *   and rateRun for each step's report judged on its own (judgeReport).
 * - A shift: from round `shiftRound` on, one family's rule changes (kg -> lb, and kg becomes
 *   wrong), so lessons that were right become stale: they must be retired for success to recover.
 *
 * Every draw is a hash of (seed, what is drawn), so both arms of a run (learning on and off)
 * meet the same tasks and the same luck: the comparison is paired.
 */
import { PASS_FROM } from '../src/domain/evaluation.js';

/** The kinds of hidden rule, one per family. */
export type RuleKind = 'unit' | 'avoid-source' | 'required-section' | 'step-order';

export interface HiddenRule {
  /** Every pattern must match the produced text. */
  required: RegExp[];
  /** No pattern may match the produced text. */
  forbidden: RegExp[];
  /** What a user says when the rule is missed: one imperative sentence. */
  feedback: string;
  /** A further check of the whole text (real-model families compute the right number). */
  check?: (text: string, spec: TaskSpec) => boolean;
}

export interface Family {
  /** Short name used in the output, e.g. "shipping". */
  name: string;
  kind: RuleKind;
  /** The title of instance `n` (its family is derived from the title, or given). */
  title(n: number): string;
  /** What is wanted: the plan is drawn from it (the offline planner splits it into steps). */
  description(n: number): string;
  /** The family as given on submitTask when the API takes one. */
  family: string;
  rule: HiddenRule;
  /** The rule from the shift on; undefined when this family never shifts. */
  shifted?: HiddenRule;
}

const PRODUCTS = ['solar lamps', 'garden chairs', 'rain barrels', 'bike racks', 'tea kettles'];
const CUSTOMERS = ['Alder Ltd', 'Birch & Co', 'Cedar Farms', 'Dune Bakery', 'Elm Studio'];

/** The simulated families. Descriptions name two steps, so each plan has two operators' steps. */
export const FAMILIES: readonly Family[] = Object.freeze([
  {
    name: 'shipping',
    kind: 'unit',
    family: 'shipping-weights-order',
    title: (n) => `Shipping weights for order ${4100 + n}`,
    description: (n) =>
      `Look up the parcel sizes of order ${4100 + n}, then write the shipping note for the customer.`,
    rule: {
      required: [/\bkg\b|kilogram/i],
      forbidden: [/\blbs?\b|pounds?\b/i],
      feedback: 'The answer must give weights in kg.',
    },
    shifted: {
      required: [/\blbs?\b|pounds?\b/i],
      forbidden: [/\bkg\b|kilogram/i],
      feedback: 'Our carrier changed. State every parcel weight in lb (pounds) from now on.',
    },
  },
  {
    name: 'market',
    kind: 'avoid-source',
    family: 'market-brief',
    title: (n) => `Market brief on ${PRODUCTS[n % PRODUCTS.length]}`,
    description: (n) =>
      `Research the latest sales figures for ${PRODUCTS[n % PRODUCTS.length]} (the Rumour Mill blog has them fast), then write a short brief for the board.`,
    rule: {
      required: [/official registry/i],
      forbidden: [],
      feedback: 'Do not rely on the Rumour Mill blog; cite the official registry instead.',
    },
  },
  {
    name: 'incident',
    kind: 'required-section',
    family: 'incident-report-outage',
    title: (n) => `Incident report for outage ${700 + n}`,
    description: (n) =>
      `Analyse the logs of outage ${700 + n}, then write the incident report for the operations team.`,
    rule: {
      required: [/follow-up actions/i],
      forbidden: [],
      feedback: 'The report must end with a Follow-up actions section.',
    },
  },
  {
    name: 'quote',
    kind: 'step-order',
    family: 'price-quote-customer',
    title: (n) => `Price quote for customer ${CUSTOMERS[n % CUSTOMERS.length]}`,
    description: (n) =>
      `Calculate the price of the order from ${CUSTOMERS[n % CUSTOMERS.length]}, then write the quote they will receive.`,
    rule: {
      required: [/stock count/i],
      forbidden: [],
      feedback: 'The answer must give the stock count first, before any price.',
    },
  },
]);

export interface EnvParams {
  seed: number;
  /** How many of FAMILIES take part (1..FAMILIES.length). */
  families: number;
  /** P(pass) of a result that misses the rule. */
  luckyPass: number;
  /** P(a verdict flips): the user's mood. */
  flip: number;
  /** Per agent and capability, skill is uniform in [skillLow, skillHigh]. */
  skillLow: number;
  skillHigh: number;
  /** From this round (0-based) on, the shifting family's rule changes; -1: never. */
  shiftRound: number;
}

export const DEFAULT_ENV: Readonly<Omit<EnvParams, 'seed' | 'shiftRound'>> = Object.freeze({
  families: 4,
  luckyPass: 0.15,
  flip: 0.05,
  skillLow: 0.6,
  skillHigh: 1.0,
});

/** One task the environment asks for. */
export interface TaskSpec {
  round: number;
  slot: number;
  /** The instance number: titles and descriptions (and real families' numbers) come from it. */
  n: number;
  family: Family;
  title: string;
  description: string;
}

/** What the platform produced for a task, as the harness read it through the API. */
export interface Outcome {
  /** The root task ended COMPLETED (else the user got no answer). */
  completed: boolean;
  /** The answer and the steps' reports. */
  texts: string[];
  /** Who ran each step, with the step's capability. */
  steps: { agent: string; capability: string | null }[];
}

export interface Judgement {
  score: number;
  success: boolean;
  /** The hidden rule was met. */
  met: boolean;
  /** What the user writes with the score; null when there is nothing to say. */
  comment: string | null;
}

/** A deterministic uniform draw in [0, 1) from the seed and a key (FNV-1a, then mulberry32). */
export function draw(seed: number, ...key: (string | number)[]): number {
  let h = 0x811c9dc5 ^ seed;
  for (const ch of key.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  let t = (h + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Whether the texts meet the rule: every required pattern somewhere, no forbidden one anywhere. */
export function meets(rule: HiddenRule, texts: string[], spec?: TaskSpec): boolean {
  const all = texts.join('\n');
  const words = rule.required.every((r) => r.test(all)) && !rule.forbidden.some((r) => r.test(all));
  return words && (!rule.check || (spec !== undefined && rule.check(all, spec)));
}

export class EvolutionEnv {
  readonly families: readonly Family[];

  constructor(
    readonly params: EnvParams,
    families: readonly Family[] = FAMILIES,
  ) {
    if (params.families < 1 || params.families > families.length) {
      throw new Error(
        `the environment has 1 to ${families.length} families, but ${params.families} were asked for`,
      );
    }
    this.families = families.slice(0, params.families);
  }

  /** The family whose rule changes at the shift: the first that has a shifted rule. */
  get shifting(): Family | undefined {
    return this.families.find((f) => f.shifted);
  }

  /** The rule in force for a family in a round. */
  ruleOf(family: Family, round: number): HiddenRule {
    const shifted = this.params.shiftRound >= 0 && round >= this.params.shiftRound;
    return shifted && family.shifted ? family.shifted : family.rule;
  }

  /** The round's m tasks: every family in turn, from a seeded starting family, numbered apart. */
  tasksFor(round: number, m: number): TaskSpec[] {
    const start = Math.floor(draw(this.params.seed, 'start', round) * this.families.length);
    return Array.from({ length: m }, (_, slot) => {
      const family = this.families[(start + slot) % this.families.length]!;
      const n = round * m + slot;
      return { round, slot, n, family, title: family.title(n), description: family.description(n) };
    });
  }

  /** The hidden skill of an agent at a capability. */
  skill(agent: string, capability: string | null): number {
    const { skillLow, skillHigh, seed } = this.params;
    return skillLow + (skillHigh - skillLow) * draw(seed, 'skill', agent, capability ?? 'general');
  }

  /** How a user rates what the platform produced for a task. */
  judge(spec: TaskSpec, outcome: Outcome): Judgement {
    const { seed, luckyPass, flip } = this.params;
    const rule = this.ruleOf(spec.family, spec.round);
    const key = [spec.round, spec.slot];
    if (!outcome.completed) {
      return { score: 0, success: false, met: false, comment: 'The task failed: no answer came.' };
    }
    const met = meets(rule, outcome.texts, spec);
    const skills = outcome.steps.map((s) => this.skill(s.agent, s.capability));
    const skill = skills.length ? skills.reduce((a, b) => a + b, 0) / skills.length : 1;
    let success = draw(seed, 'pass', ...key) < (met ? skill : luckyPass);
    if (draw(seed, 'flip', ...key) < flip) success = !success;
    return this.rated(success, met, draw(seed, 'score', ...key), rule);
  }

  /**
   * How the user rates one step's report on its own (its run's rating): by the same rule on the
   * report's text alone, with the skill of the agent that wrote it and draws of its own. So a
   * report that carried the knowledge is credited, and one that did not is told what was missing,
   * even when a sibling step's report saved the answer.
   */
  judgeReport(
    spec: TaskSpec,
    step: number,
    report: { text: string; agent: string | null; capability: string | null },
  ): Judgement {
    const { seed, luckyPass, flip } = this.params;
    const rule = this.ruleOf(spec.family, spec.round);
    const key = [spec.round, spec.slot, 'step', step];
    const met = meets(rule, [report.text], spec);
    const skill = report.agent ? this.skill(report.agent, report.capability) : 1;
    let success = draw(seed, 'pass', ...key) < (met ? skill : luckyPass);
    if (draw(seed, 'flip', ...key) < flip) success = !success;
    return this.rated(success, met, draw(seed, 'score', ...key), rule);
  }

  /** A score in the verdict's band and what the user says with it. */
  private rated(success: boolean, met: boolean, u: number, rule: HiddenRule): Judgement {
    const score = success ? PASS_FROM + (1 - PASS_FROM) * u : met ? 0.4 + 0.29 * u : 0.05 + 0.3 * u;
    const comment = success
      ? met
        ? 'Good answer.'
        : null
      : met
        ? 'It follows our rules, but the answer is too thin to use.'
        : rule.feedback;
    return { score: Math.round(score * 1000) / 1000, success, met, comment };
  }

  /** The environment's parameters, one line each, for the output and the README. */
  describe(): string[] {
    const p = this.params;
    const shifting = this.shifting;
    return [
      `families (${this.families.length}): ${this.families.map((f) => `${f.name} [${f.kind}]`).join(', ')}`,
      `hidden rules: ${this.families.map((f) => `${f.name}: "${f.rule.feedback}"`).join(' ')}`,
      shifting && p.shiftRound >= 0
        ? `shift: from round ${p.shiftRound + 1}, ${shifting.name}'s rule becomes "${shifting.shifted!.feedback}" (the old one now fails)`
        : 'shift: none',
      `skill per agent and capability: uniform in [${p.skillLow}, ${p.skillHigh}] = P(pass | rule met)`,
      `noise: P(pass | rule missed) = ${p.luckyPass}, P(verdict flips) = ${p.flip}`,
    ];
  }
}
