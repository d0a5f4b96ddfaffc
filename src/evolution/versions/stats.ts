/*
 * The canary's statistics (issue 12), pure: a one-sided Welch t-test on the effective scores of
 * a candidate version's runs against the live version's runs over the same period. Welch, not
 * Student: the two versions' score spreads need not be equal, and the samples are unequal in
 * size by design (the candidate gets a share of the runs).
 */

export interface Sample {
  n: number;
  mean: number;
  /** Unbiased sample variance (n - 1); 0 for fewer than two values. */
  variance: number;
}

export function summarise(values: readonly number[]): Sample {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n < 2 ? 0 : values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

export interface WelchResult {
  /** (mean a - mean b) / its standard error; ±Infinity when both spreads are 0 and means differ. */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** P(T >= t) under "a is not better than b": small means a is better. */
  pGreater: number;
  /** P(T <= t) under "a is not worse than b": small means a is worse. */
  pLess: number;
}

/** Welch's t-test of `a` against `b`, both one-sided p-values. Needs n >= 2 on each side. */
export function welch(a: Sample, b: Sample): WelchResult {
  if (a.n < 2 || b.n < 2) throw new RangeError('Welch needs at least two values on each side');
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se = Math.sqrt(va + vb);
  const diff = a.mean - b.mean;
  if (se === 0) {
    // Two constant samples: the difference is exact.
    if (diff === 0) return { t: 0, df: a.n + b.n - 2, pGreater: 0.5, pLess: 0.5 };
    const t = diff > 0 ? Infinity : -Infinity;
    return { t, df: a.n + b.n - 2, pGreater: diff > 0 ? 0 : 1, pLess: diff > 0 ? 1 : 0 };
  }
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const cdf = studentTCdf(t, df);
  return { t, df, pGreater: 1 - cdf, pLess: cdf };
}

export type CanaryDecision = 'PROMOTE' | 'ROLLBACK' | 'WAIT';

export interface CanaryVerdict {
  decision: CanaryDecision;
  candidate: Sample;
  live: Sample;
  /** null while either side has fewer than `minRuns` evaluated runs. */
  test: WelchResult | null;
  /** One line for the transition's reason. */
  reason: string;
}

/**
 * Promote when the candidate's mean score is higher at significance `alpha` (one-sided Welch),
 * roll back when it is lower at the same significance, wait otherwise or while either side has
 * fewer than `minRuns` evaluated runs.
 */
export function decideCanary(
  candidateScores: readonly number[],
  liveScores: readonly number[],
  o: { minRuns: number; alpha: number },
): CanaryVerdict {
  const candidate = summarise(candidateScores);
  const live = summarise(liveScores);
  const minRuns = Math.max(2, o.minRuns);
  const means = `candidate mean ${candidate.mean.toFixed(3)} (n=${candidate.n}) vs live ${live.mean.toFixed(3)} (n=${live.n})`;
  if (candidate.n < minRuns || live.n < minRuns) {
    return {
      decision: 'WAIT',
      candidate,
      live,
      test: null,
      reason: `waiting for ${minRuns} evaluated runs on each side: ${means}`,
    };
  }
  const test = welch(candidate, live);
  const stats = `one-sided Welch t=${fmt(test.t)}, df=${test.df.toFixed(1)}`;
  if (test.pGreater < o.alpha) {
    return {
      decision: 'PROMOTE',
      candidate,
      live,
      test,
      reason: `better: ${means}; ${stats}, p=${test.pGreater.toPrecision(3)} < ${o.alpha}`,
    };
  }
  if (test.pLess < o.alpha) {
    return {
      decision: 'ROLLBACK',
      candidate,
      live,
      test,
      reason: `worse: ${means}; ${stats}, p=${test.pLess.toPrecision(3)} < ${o.alpha}`,
    };
  }
  return {
    decision: 'WAIT',
    candidate,
    live,
    test,
    reason: `no significant difference yet: ${means}; ${stats}`,
  };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

/** P(T <= t) for Student's t with `df` degrees of freedom (df may be fractional). */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-12) break;
  }
  return h;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
