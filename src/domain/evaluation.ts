/*
 * How outcomes are judged (issue 12). Every finished run and root task gets :Evaluation nodes
 * from up to three sources; the one that counts (its effective evaluation) is a person's rating
 * over the judge's over the objective signals.
 */

export enum EvaluationSource {
  /** Status, attempts, duration, cost, failed conditions: no model involved. */
  OBJECTIVE = 'OBJECTIVE',
  /** The judge chain (purpose `evaluation`); the offline model's judgement is labelled offline. */
  JUDGE = 'JUDGE',
  /** rateTask / rateRun: outranks the judge. */
  PERSON = 'PERSON',
}

export enum Verdict {
  PASS = 'PASS',
  PARTIAL = 'PARTIAL',
  FAIL = 'FAIL',
}

/** Which source counts when a subject has several: the highest rank. */
export const SOURCE_RANK: Readonly<Record<EvaluationSource, number>> = Object.freeze({
  OBJECTIVE: 1,
  JUDGE: 2,
  PERSON: 3,
});

/** A score from which a verdict is PASS, and from which it is PARTIAL. */
export const PASS_FROM = 0.7;
export const PARTIAL_FROM = 0.4;

/** The verdict a score means: PASS from 0.7, PARTIAL from 0.4, FAIL below. */
export function verdictOf(score: number): Verdict {
  if (score >= PASS_FROM) return Verdict.PASS;
  if (score >= PARTIAL_FROM) return Verdict.PARTIAL;
  return Verdict.FAIL;
}

export interface Evaluation {
  id: string;
  tenantId: string;
  /** What it judges: a :Run or a (root) :Task. */
  subjectLabel: 'Run' | 'Task';
  subjectId: string;
  source: EvaluationSource;
  /** 0..1. */
  score: number;
  verdict: Verdict;
  /** What was checked, in a line (e.g. "coverage of the expected output's key terms"). */
  rubric: string;
  /** The short reasons, one per line of judgement. */
  reasons: string[];
  /** A person's comment (PERSON), or the judge's feedback; null when none. */
  comment: string | null;
  /** Who rated (PERSON: the user or key); the judge's model (JUDGE); null for OBJECTIVE. */
  by: string | null;
  /** The judgement came from the offline model (deterministic, not a real judge). */
  offline: boolean;
  createdAt: string;
}
