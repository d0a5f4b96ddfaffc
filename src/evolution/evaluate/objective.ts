/**
 * The objective evaluation (issue 12): a score from signals the engine already has, no model
 * involved. Pure functions, so the rubric can be read and tested alone.
 */
import { EvaluationSource, verdictOf, type Verdict } from '../../domain/evaluation.js';
import { inPlan, skipCause, type PlanMember, type SkipCause } from '../../domain/task.js';

/** What the engine knows of an attempt when it records its end. */
export interface RunSignals {
  status: 'SUCCEEDED' | 'FAILED';
  /** This attempt's number (1 for the first) and how many the step allows. */
  attempt: number;
  maxAttempts: number;
  /** The failure will be retried (a transient error with attempts left). */
  willRetry: boolean;
  /** The failure was the step timeout. */
  timedOut: boolean;
  latencyMs: number;
  /** The step timeout this attempt ran under; null when unknown. */
  timeoutMs: number | null;
  /** What the attempt's model calls cost so far (USD). */
  costUsd: number;
  /** The cost from which a step starts to lose score (USD); 0 or less: cost never counts. */
  costReferenceUsd: number;
}

export interface ObjectiveScore {
  source: EvaluationSource.OBJECTIVE;
  score: number;
  verdict: Verdict;
  rubric: string;
  reasons: string[];
}

export const RUN_RUBRIC =
  'objective signals: status (a failure scores 0), attempts used, duration against the step timeout, cost';
export const TASK_RUBRIC =
  'objective signals: the task status (not completed scores 0), its steps’ outcomes, retries and conditions';

/** Most a success loses for retries, for a slow attempt and for cost. */
const RETRY_PENALTY = 0.1;
const MAX_RETRY_PENALTY = 0.3;
const MAX_SLOW_PENALTY = 0.2;
/** A success that used less than this share of the timeout loses nothing for time. */
const SLOW_FROM = 0.5;
const MAX_COST_PENALTY = 0.1;

const round = (n: number) => Math.round(n * 1000) / 1000;
const minus = (n: number) => (n > 0 ? ` (-${n.toFixed(2)})` : '');

/** The objective evaluation of one ended attempt. */
export function objectiveOfRun(s: RunSignals): ObjectiveScore {
  const reasons: string[] = [];
  const retries = Math.max(0, s.attempt - 1);
  const retryPenalty = Math.min(MAX_RETRY_PENALTY, retries * RETRY_PENALTY);
  const share = s.timeoutMs && s.timeoutMs > 0 ? s.latencyMs / s.timeoutMs : null;
  const slowPenalty =
    share === null
      ? 0
      : Math.min(
          MAX_SLOW_PENALTY,
          Math.max(0, (share - SLOW_FROM) / (1 - SLOW_FROM)) * MAX_SLOW_PENALTY,
        );
  const over = s.costReferenceUsd > 0 ? s.costUsd / s.costReferenceUsd - 1 : 0;
  const costPenalty = Math.min(MAX_COST_PENALTY, Math.max(0, over) * MAX_COST_PENALTY);

  if (s.status === 'FAILED') {
    const why = s.timedOut ? 'timed out' : s.willRetry ? 'failed (will be retried)' : 'failed';
    reasons.push(`status FAILED: the attempt ${why}, so it scores 0`);
  } else {
    reasons.push('status SUCCEEDED');
  }
  reasons.push(
    `attempt ${s.attempt} of ${s.maxAttempts}${s.status === 'SUCCEEDED' ? minus(retryPenalty) : ''}`,
  );
  reasons.push(
    share === null
      ? `took ${s.latencyMs} ms (no step timeout known)`
      : `took ${s.latencyMs} ms, ${Math.round(share * 100)}% of the ${s.timeoutMs} ms step timeout${s.status === 'SUCCEEDED' ? minus(slowPenalty) : ''}`,
  );
  reasons.push(
    s.costReferenceUsd > 0
      ? `cost $${s.costUsd.toFixed(4)} against a reference of $${s.costReferenceUsd.toFixed(4)}${s.status === 'SUCCEEDED' ? minus(costPenalty) : ''}`
      : `cost $${s.costUsd.toFixed(4)} (not scored)`,
  );
  const score =
    s.status === 'FAILED' ? 0 : round(Math.max(0, 1 - retryPenalty - slowPenalty - costPenalty));
  return {
    source: EvaluationSource.OBJECTIVE,
    score,
    verdict: verdictOf(score),
    rubric: RUN_RUBRIC,
    reasons,
  };
}

/** What a finished root task's steps left. */
export interface TaskSignals {
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
  /** Each `removed` from its plan by approvePlan or not (inPlan). */
  steps: (PlanMember & {
    title: string;
    status: string;
    /** Runs started for the step. */
    attempts: number;
    /** Why it failed, was skipped or cancelled. */
    error: string | null;
  })[];
}

/** Most a completed task loses for retried steps and for steps skipped by a broken dependency. */
const STEP_RETRY_PENALTY = 0.05;
const MAX_STEP_RETRY_PENALTY = 0.3;
const BROKEN_SKIP_PENALTY = 0.1;

/**
 * The objective evaluation of a finished root task from its steps: a task that did not complete
 * scores 0; a completed one loses a little for each retry and each step skipped because of a
 * failed dependency. A step skipped by a false condition went as designed, and one a person
 * rejected as decided: neither costs anything. A step removed from the plan is not the plan's
 * (inPlan): it is left out, even one a person had cancelled (it stays CANCELLED).
 */
export function objectiveOfTask(s: TaskSignals): ObjectiveScore {
  const steps = s.steps.filter(inPlan);
  const removed = s.steps.length - steps.length;
  const count = (status: string) => steps.filter((x) => x.status === status).length;
  const completed = count('COMPLETED');
  const failed = count('FAILED');
  const cancelled = count('CANCELLED');
  const skipped = steps.filter((x) => x.status === 'SKIPPED');
  const skippedBy = (...causes: SkipCause[]) =>
    skipped.filter((x) => causes.some((c) => skipCause(x.error) === c)).length;
  const byCondition = skippedBy('falseCondition');
  // A step removed before approvePlan marked removedFromPlan is known by its error alone.
  const byPerson = skippedBy('rejected', 'removedFromPlan');
  // Only a failure's consequence costs: a step after skipped steps counts where they do.
  const broken = skippedBy('brokenDependency');
  const retries = steps.reduce((n, x) => n + Math.max(0, x.attempts - 1), 0);
  const retryPenalty = Math.min(MAX_STEP_RETRY_PENALTY, retries * STEP_RETRY_PENALTY);
  const brokenPenalty = Math.min(0.3, broken * BROKEN_SKIP_PENALTY);
  const done = s.status === 'COMPLETED';
  const reasons = [
    done ? 'status COMPLETED' : `status ${s.status}: the task did not complete, so it scores 0`,
    `${steps.length} step(s): ${completed} completed, ${failed} failed, ${cancelled} cancelled, ${skipped.length} skipped`,
    `${retries} retried attempt(s) across the steps${done ? minus(retryPenalty) : ''}`,
  ];
  if (byCondition > 0)
    reasons.push(`${byCondition} step(s) skipped by a false condition (as designed)`);
  if (byPerson > 0) reasons.push(`${byPerson} step(s) skipped by a person (rejected or removed)`);
  if (removed > 0)
    reasons.push(`${removed} step(s) removed from the plan by a person (not counted)`);
  if (broken > 0)
    reasons.push(
      `${broken} step(s) skipped because a dependency failed${done ? minus(brokenPenalty) : ''}`,
    );
  const firstFailure = steps.find((x) => x.status === 'FAILED');
  if (firstFailure)
    reasons.push(
      `first failed step "${firstFailure.title}": ${firstFailure.error ?? 'no error recorded'}`,
    );
  const score = done ? round(Math.max(0, 1 - retryPenalty - brokenPenalty)) : 0;
  return {
    source: EvaluationSource.OBJECTIVE,
    score,
    verdict: verdictOf(score),
    rubric: TASK_RUBRIC,
    reasons: reasons.map((r) => r.slice(0, 300)),
  };
}
