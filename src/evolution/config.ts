import { z } from 'zod';
import { timerMs } from '../config/timer-ms.js';
import { decimal, plainNumber, wholeNumber } from '../config/env-number.js';

/** The learning loop's settings (issue 12); each part's own knobs sit beside it in this file. */
export interface EvolutionConfig {
  /** EVOLUTION=off: no learning loop in this process (evaluations are still written). */
  enabled: boolean;
  /** How often the loop's passes run, in ms. */
  intervalMs: number;
  /** Skills (src/evolution/skills): plans that worked, offered when a family is planned again. */
  skills: SkillsConfig;
  /** Spawning (src/evolution/spawning): specialised operators for backlogs and missing skills. */
  spawning: SpawningConfig;
  /** Agent versions (src/evolution/versions): canary share and the promotion test. */
  canary: CanaryConfig;
  /** Lessons (src/evolution/lessons): reflection, retrieval and lifecycle. */
  lessons: LessonsConfig;
}

export interface LessonsConfig {
  /** Share of runs that get CANDIDATE lessons in their prompts (per run and lesson, stable). */
  candidateShare: number;
  /** Most lessons one prompt gets (an agent version's lessonBudget wins when it has one). */
  budget: number;
  /** Most characters of lessons one prompt gets. */
  budgetChars: number;
  /** Runs whose effective score is below this are reflected on. */
  reflectBelow: number;
  /** Applications a CANDIDATE needs before it can become ACTIVE. */
  minApplied: number;
  /** How many recent applied runs of an ACTIVE lesson are compared with its earlier ones. */
  recentRuns: number;
}

export interface CanaryConfig {
  /** Share of an agent's runs a proposed CANDIDATE version gets (EVOLUTION_CANARY_SHARE). */
  share: number;
  /** Evaluated runs each side (candidate, live) needs before a decision. */
  minRuns: number;
  /** Significance of the one-sided Welch t-test that promotes or rolls back. */
  alpha: number;
}

export interface SkillsConfig {
  /** Finished root tasks a family needs before its successful plans become skills. */
  minFamilyTasks: number;
  /** Plans a CANDIDATE skill must be offered to before it may become ACTIVE. */
  minApplied: number;
}

export interface SpawningConfig {
  /** EVOLUTION_SPAWNING=off: the Chief of Staff never spawns nor retires agents. */
  enabled: boolean;
  /** Steps of one capability waiting for an agent that make a backlog (more than this). */
  backlog: number;
  /** How long a backlog must last before an agent is spawned for it, in ms. */
  backlogMs: number;
  /** After a spawn for a capability, no other spawn for it for this long, in ms. */
  cooldownMs: number;
  /** Active spawned agents a tenant may have at once. */
  max: number;
  /** A spawned agent with no run for this long is retired, in ms. */
  idleTtlMs: number;
}

export const DEFAULT_EVOLUTION: Readonly<EvolutionConfig> = Object.freeze({
  enabled: true,
  intervalMs: 5_000,
  skills: Object.freeze({ minFamilyTasks: 3, minApplied: 5 }),
  spawning: Object.freeze({
    enabled: true,
    backlog: 5,
    backlogMs: 120_000,
    cooldownMs: 600_000,
    max: 3,
    idleTtlMs: 3_600_000,
  }),
  canary: Object.freeze({ share: 0.2, minRuns: 10, alpha: 0.05 }),
  lessons: Object.freeze({
    candidateShare: 0.5,
    budget: 5,
    budgetChars: 1_200,
    reflectBelow: 0.7,
    minApplied: 5,
    recentRuns: 6,
  }),
});

const MONTH_MS = 2_592_000_000;
/**
 * Whole ms up to 30 days, from 0 or from `least` (named in words in the message). loadConfig
 * puts the variable's name before the message.
 */
const wholeMs = (fallback: number, least?: { ms: number; words: string }) => {
  const contract = least
    ? `must be a whole number of ms from ${least.ms} (${least.words}) to ${MONTH_MS} (30 days)`
    : 'must be a whole number of ms, at least 0';
  const most = least ? contract : `must be at most ${MONTH_MS} (30 days)`;
  const ms = z
    .number()
    .int(contract)
    .min(least?.ms ?? 0, contract)
    .max(MONTH_MS, most);
  return plainNumber(contract, ms, true).default(fallback);
};
const count = (min: number, max: number, fallback: number) =>
  wholeNumber(min, max).default(fallback);

const share = (fallback: number) => decimal(0, 1).default(fallback);

/** Spread into src/config/config.ts's env schema. */
export const evolutionEnvSchema = z.object({
  EVOLUTION: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  EVOLUTION_INTERVAL_MS: timerMs(100, 86_400_000).default(DEFAULT_EVOLUTION.intervalMs),
  EVOLUTION_SKILL_MIN_TASKS: count(1, 1000, DEFAULT_EVOLUTION.skills.minFamilyTasks),
  EVOLUTION_SKILL_MIN_APPLIED: count(1, 10_000, DEFAULT_EVOLUTION.skills.minApplied),
  EVOLUTION_SPAWNING: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  EVOLUTION_SPAWN_BACKLOG: count(0, 100_000, DEFAULT_EVOLUTION.spawning.backlog),
  EVOLUTION_SPAWN_BACKLOG_MS: wholeMs(DEFAULT_EVOLUTION.spawning.backlogMs),
  EVOLUTION_SPAWN_COOLDOWN_MS: wholeMs(DEFAULT_EVOLUTION.spawning.cooldownMs),
  EVOLUTION_SPAWN_MAX: count(0, 100, DEFAULT_EVOLUTION.spawning.max),
  // Idleness counts from a run's end: 0 retired a spawned agent on the next pass, before or
  // just after its first step; under a minute, before the next step of its backlog was claimed.
  EVOLUTION_SPAWN_IDLE_TTL_MS: wholeMs(DEFAULT_EVOLUTION.spawning.idleTtlMs, {
    ms: 60_000,
    words: 'a minute',
  }),
  EVOLUTION_CANARY_SHARE: decimal(0.01, 0.5).default(DEFAULT_EVOLUTION.canary.share),
  EVOLUTION_CANARY_MIN_RUNS: count(2, 10_000, DEFAULT_EVOLUTION.canary.minRuns),
  EVOLUTION_LESSON_CANDIDATE_SHARE: share(DEFAULT_EVOLUTION.lessons.candidateShare),
  EVOLUTION_LESSON_BUDGET: count(0, 50, DEFAULT_EVOLUTION.lessons.budget),
  EVOLUTION_LESSON_BUDGET_CHARS: count(0, 20_000, DEFAULT_EVOLUTION.lessons.budgetChars),
  EVOLUTION_LESSON_REFLECT_BELOW: share(DEFAULT_EVOLUTION.lessons.reflectBelow),
  EVOLUTION_LESSON_MIN_APPLIED: count(1, 10_000, DEFAULT_EVOLUTION.lessons.minApplied),
  EVOLUTION_LESSON_RECENT_RUNS: count(2, 1_000, DEFAULT_EVOLUTION.lessons.recentRuns),
  EVOLUTION_CANARY_ALPHA: decimal(0.001, 0.2).default(DEFAULT_EVOLUTION.canary.alpha),
});

export function evolutionFromEnv(parsed: z.infer<typeof evolutionEnvSchema>): EvolutionConfig {
  return {
    enabled: parsed.EVOLUTION === 'on',
    intervalMs: parsed.EVOLUTION_INTERVAL_MS,
    skills: {
      minFamilyTasks: parsed.EVOLUTION_SKILL_MIN_TASKS,
      minApplied: parsed.EVOLUTION_SKILL_MIN_APPLIED,
    },
    spawning: {
      enabled: parsed.EVOLUTION_SPAWNING === 'on',
      backlog: parsed.EVOLUTION_SPAWN_BACKLOG,
      backlogMs: parsed.EVOLUTION_SPAWN_BACKLOG_MS,
      cooldownMs: parsed.EVOLUTION_SPAWN_COOLDOWN_MS,
      max: parsed.EVOLUTION_SPAWN_MAX,
      idleTtlMs: parsed.EVOLUTION_SPAWN_IDLE_TTL_MS,
    },
    canary: {
      share: parsed.EVOLUTION_CANARY_SHARE,
      minRuns: parsed.EVOLUTION_CANARY_MIN_RUNS,
      alpha: parsed.EVOLUTION_CANARY_ALPHA,
    },
    lessons: {
      candidateShare: parsed.EVOLUTION_LESSON_CANDIDATE_SHARE,
      budget: parsed.EVOLUTION_LESSON_BUDGET,
      budgetChars: parsed.EVOLUTION_LESSON_BUDGET_CHARS,
      reflectBelow: parsed.EVOLUTION_LESSON_REFLECT_BELOW,
      minApplied: parsed.EVOLUTION_LESSON_MIN_APPLIED,
      recentRuns: parsed.EVOLUTION_LESSON_RECENT_RUNS,
    },
  };
}
