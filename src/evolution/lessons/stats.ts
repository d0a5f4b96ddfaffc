/*
 * The statistics of a lesson's efficacy (issue 12): pure, so they are exact on constructed
 * numbers. The PASS rate of runs where a lesson was applied against comparable runs where it was
 * not, and a 95% interval for the difference by Newcombe's hybrid score method ("method 10",
 * Newcombe 1998, Statistics in Medicine 17:873-890): each rate gets its Wilson score interval,
 * and the two are combined into an interval for the difference. It stays inside [-1, 1], and
 * behaves at 0 and 100% and on small samples, where the Wald interval does not.
 */

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/** Outcomes of one arm: runs with an effective evaluation, and how many of them PASSed. */
export interface Arm {
  n: number;
  successes: number;
}

/** Knowledge.efficacy: both arms, and the difference of their PASS rates with its interval. */
export interface Efficacy {
  applied: number;
  appliedSuccesses: number;
  notApplied: number;
  notAppliedSuccesses: number;
  /** PASS rate applied minus PASS rate not applied; null while an arm has no runs. */
  delta: number | null;
  /** The interval's bounds for delta (Newcombe's hybrid score); null while an arm is empty. */
  low: number | null;
  high: number | null;
}

/** The Wilson score interval of `successes` out of `n` (n > 0). */
export function wilson(successes: number, n: number, z = Z95): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0% and 100% the bound is exactly 0 or 1 (floating point would miss it by an ulp).
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === n ? 1 : Math.min(1, centre + half),
  };
}

/**
 * The difference of two proportions a - b with Newcombe's hybrid score interval:
 * low = d - sqrt((pa - la)^2 + (ub - pb)^2), high = d + sqrt((ua - pa)^2 + (pb - lb)^2),
 * where (l, u) are each arm's Wilson bounds. Null bounds when an arm is empty.
 */
export function newcombe(
  a: Arm,
  b: Arm,
  z = Z95,
): { delta: number | null; low: number | null; high: number | null } {
  if (a.n <= 0 || b.n <= 0) return { delta: null, low: null, high: null };
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const wa = wilson(a.successes, a.n, z);
  const wb = wilson(b.successes, b.n, z);
  const delta = pa - pb;
  return {
    delta,
    low: delta - Math.sqrt((pa - wa.low) ** 2 + (wb.high - pb) ** 2),
    high: delta + Math.sqrt((wa.high - pa) ** 2 + (pb - wb.low) ** 2),
  };
}

/** The efficacy of a lesson from its two arms. */
export function efficacyOf(applied: Arm, notApplied: Arm, z = Z95): Efficacy {
  return {
    applied: applied.n,
    appliedSuccesses: applied.successes,
    notApplied: notApplied.n,
    notAppliedSuccesses: notApplied.successes,
    ...newcombe(applied, notApplied, z),
  };
}

/** What the lifecycle does with a lesson on this evidence, and why. */
export interface LessonDecision {
  to: 'ACTIVE' | 'RETIRED' | null;
  reason: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const range = (e: Efficacy) =>
  `delta ${pct(e.delta!)} [${pct(e.low!)}, ${pct(e.high!)}] (applied ${e.appliedSuccesses}/${e.applied} PASS, not applied ${e.notAppliedSuccesses}/${e.notApplied})`;

/**
 * CANDIDATE: ACTIVE when it was applied at least `minApplied` times and the interval's lower
 * bound is above 0. Either: RETIRED when the efficacy's upper bound is below 0 (it hurts), or
 * when `drift` (its recent applied runs against its earlier applied runs) has an upper bound
 * below 0: the world changed. Otherwise no change.
 */
export function decide(
  status: 'CANDIDATE' | 'ACTIVE',
  e: Efficacy,
  minApplied: number,
  drift?: Efficacy,
): LessonDecision {
  if (e.high !== null && e.high < 0) return { to: 'RETIRED', reason: `it hurts: ${range(e)}` };
  // Drift counts for candidates too: their whole history can look good long after the world
  // changed, and a stale candidate would keep reaching prompts.
  if (drift?.high != null && drift.high < 0) {
    return {
      to: 'RETIRED',
      reason: `the world changed: recent applied runs ${drift.appliedSuccesses}/${drift.applied} PASS against ${drift.notAppliedSuccesses}/${drift.notApplied} before, delta ${pct(drift.delta!)} [${pct(drift.low!)}, ${pct(drift.high!)}]`,
    };
  }
  if (status === 'CANDIDATE' && e.low !== null && e.low > 0 && e.applied >= minApplied) {
    return { to: 'ACTIVE', reason: `it helps: ${range(e)}` };
  }
  return { to: null, reason: '' };
}
