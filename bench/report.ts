import type { EngineResult } from './engine.phase.js';
import type { Probe, Tally, TxTally } from './probe.js';
import { int, median, ms, percentile, ratio } from './stats.js';

export const TARGET_MEDIAN_OVERHEAD_MS = 10;
export const TARGET_STEPS_PER_SECOND = 300;

/** What the probe saw in one phase, copied before the next phase resets it. */
export interface Profile {
  transactions: Map<string, TxTally>;
  statements: Map<string, Tally>;
  errors: Map<string, { count: number; example: string }>;
}

export const profileOf = (p: Probe): Profile => ({
  transactions: new Map(p.transactions),
  statements: new Map(p.statements),
  errors: new Map(p.errors),
});

export interface BaselineResult {
  n: number;
  seconds: number;
  /** Per step: claim transaction start -> endRun commit. */
  stepMs: number[];
  /** Claims that returned nothing because another loop took the head of the queue. */
  emptyClaims: number;
  statements: number;
  cpu: string;
  profile: Profile;
  /** Tasks COMPLETED with exactly one successful Run afterwards. */
  completed: number;
}

/** A profile as JSON (a worker process's, bench/engine-worker.ts). */
export const profileToJson = (p: Profile) =>
  JSON.stringify({
    transactions: [...p.transactions],
    statements: [...p.statements],
    errors: [...p.errors],
  });

/** The profiles of several worker processes (profileToJson) as one: their tallies added up. */
export function mergedProfile(texts: string[]): Profile {
  const out: Profile = { transactions: new Map(), statements: new Map(), errors: new Map() };
  for (const text of texts) {
    const p = JSON.parse(text) as Record<keyof Profile, [string, Record<string, number>][]>;
    for (const key of ['transactions', 'statements', 'errors'] as const) {
      const into = out[key] as Map<string, Record<string, number | string>>;
      for (const [name, tally] of p[key]) {
        const sum = { ...(into.get(name) ?? {}) };
        for (const [field, v] of Object.entries(tally)) {
          sum[field] = typeof v === 'number' ? Number(sum[field] ?? 0) + v : (sum[field] ?? v);
        }
        into.set(name, sum);
      }
    }
  }
  return out;
}

const spread = (values: number[]) =>
  `median ${ms(median(values))}, p99 ${ms(percentile(values, 99))}`;

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    '    ' +
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function printBaseline(r: BaselineResult): void {
  console.log(
    [
      `  ${int(r.n)} steps in ${r.seconds.toFixed(2)} s: ${int(r.n / r.seconds)} steps/s`,
      `  per-step time (claim transaction start -> endRun committed): ${spread(r.stepMs)}`,
      `  empty claims (another loop held the head of the queue): ${int(r.emptyClaims)}; ` +
        `statements: ${int(r.statements)} (${(r.statements / r.n).toFixed(1)} per step)`,
      `  CPU: ${r.cpu}`,
      `  check: ${int(r.completed)}/${int(r.n)} tasks COMPLETED with one Run`,
      profileLines(r.n, r.profile),
    ].join('\n'),
  );
}

export function printEngine(r: EngineResult, warnings: string[]): void {
  console.log(
    [
      `  ${int(r.n)} steps (${r.check.layers} layers) in ${r.seconds.toFixed(2)} s: ${int(r.n / r.seconds)} steps/s`,
      `  overhead per step: ${spread(r.overhead)}`,
      `    before the call (claimable -> executor called): ${spread(r.before)}`,
      `    after the return (executor returned -> COMPLETED committed): ${spread(r.after)}`,
      `  database clock, steps after the first layer: last dependency's endRun -> the step's startRun: ${spread(r.check.dbGaps)}`,
      `  check: ${int(r.check.completed)}/${int(r.n)} steps COMPLETED with one Run, ` +
        `${int(r.check.extraRuns)} extra runs, ${int(r.executorCalls)} executor calls, root ${r.check.rootStatus}`,
      `  statements: ${int(r.statements)} (${(r.statements / r.n).toFixed(2)} per step, Graph.statementCount); CPU: ${r.cpu}`,
      profileLines(r.n, r.profile),
      `  engine warnings (failed ticks): ${warnings.length}` +
        (warnings[0] ? `; first: ${warnings[0].slice(0, 300)}` : ''),
    ].join('\n'),
  );
}

export function profileLines(n: number, p: Profile): string {
  const perStep = (v: number) => (v / n).toFixed(2);
  const transactions = [...p.transactions.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const statements = [...p.statements.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const statementMs = statements.reduce((sum, [, t]) => sum + t.ms, 0);
  const errors = [...p.errors.entries()].map(([what, e]) => `${e.count}x ${what}`);
  const example = [...p.errors.values()][0]?.example.replace(/\s+/g, ' ').slice(0, 500);
  return [
    `  transactions by kind (mean ms includes lock waits and the driver's retry delays; of it, ` +
      `Neo4j's own time for the statements, before the first statement, between statements ` +
      `(a retry's pause too) and the commit):`,
    table(
      [
        'kind',
        'count',
        'per step',
        'changed something',
        'statements/tx',
        'mean ms',
        'Neo4j ms',
        'before 1st ms',
        'between ms',
        'commit ms',
        'retried',
      ],
      transactions.map(([kind, t]) => [
        kind,
        int(t.count),
        perStep(t.count),
        `${Math.round((100 * t.productive) / t.count)}%`,
        (t.statements / t.count).toFixed(1),
        (t.ms / t.count).toFixed(2),
        (t.serverMs / t.count).toFixed(2),
        (t.beforeFirstMs / t.count).toFixed(2),
        (t.betweenMs / t.count).toFixed(2),
        (t.commitMs / t.count).toFixed(2),
        int(t.retries),
      ]),
    ),
    `  statements by total time (round trip as awaited, lock waits included; Neo4j ms: the time ` +
      `Neo4j reported executing it, whole ms each (rounded down: the mean is low by up to 1 ms)):`,
    table(
      ['statement', 'count', 'per step', 'mean ms', 'Neo4j ms', 'total s', 'share'],
      statements.map(([name, t]) => [
        name,
        int(t.count),
        perStep(t.count),
        (t.ms / t.count).toFixed(2),
        (t.serverMs / t.count).toFixed(2),
        (t.ms / 1000).toFixed(2),
        `${Math.round((100 * t.ms) / statementMs)}%`,
      ]),
    ),
    `  statement errors (each makes the driver retry the transaction after a backoff): ${errors.length ? errors.join('; ') : 'none'}`,
    ...(example ? [`    first: ${example}`] : []),
  ].join('\n');
}

export function printSummary(results: { engine: EngineResult; baseline: BaselineResult }[]): void {
  const rows = results.map(({ engine: e, baseline: b }) => {
    const eRate = e.n / e.seconds;
    const bRate = b.n / b.seconds;
    return [
      int(e.n),
      int(eRate),
      int(bRate),
      ratio(eRate, bRate),
      ms(median(e.overhead)),
      ms(percentile(e.overhead, 99)),
      ms(median(b.stepMs)),
      ratio(median(e.overhead), median(b.stepMs)),
    ];
  });
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const overheadTarget = results.map(({ engine: e }) => {
    const m = median(e.overhead);
    return `${int(e.n)} steps: ${verdict(m < TARGET_MEDIAN_OVERHEAD_MS)} (${ms(m)})`;
  });
  const rateTarget = results.map(({ engine: e }) => {
    const rate = e.n / e.seconds;
    return `${int(e.n)} steps: ${verdict(rate >= TARGET_STEPS_PER_SECOND)} (${int(rate)} steps/s)`;
  });
  console.log(
    [
      '\n== Summary: 4 workers, no-op executor ==',
      table(
        [
          'DAG steps',
          'engine steps/s',
          'baseline steps/s',
          'engine/baseline',
          'engine median overhead',
          'engine p99 overhead',
          'baseline median step',
          'engine/baseline',
        ],
        rows,
      ),
      'Targets:',
      `  median overhead per step under ${TARGET_MEDIAN_OVERHEAD_MS} ms: ${overheadTarget.join('; ')}`,
      `  at least ${TARGET_STEPS_PER_SECOND} steps per second: ${rateTarget.join('; ')}`,
      'Overhead = (executor called - step claimable) + (COMPLETED committed - executor returned); ' +
        'claimable = last dependency completion committed, or the workflow start for first-layer steps.',
    ].join('\n'),
  );
}

/**
 * Steps a second as schedulers are added, each against the one-scheduler run of the same series
 * (measured in this run): where the ratio stops growing, the queue in Neo4j is the bound.
 */
export function printSaturation(series: EngineResult[]): void {
  const one = series[0]!.n / series[0]!.seconds;
  const rows = series.map((e) => {
    const rate = e.n / e.seconds;
    return [
      String(e.workers),
      int(rate),
      ratio(rate, one),
      ms(median(e.overhead)),
      ms(percentile(e.overhead, 99)),
      e.cpu,
      `${e.check.completed}/${int(e.n)}${e.check.extraRuns ? `, ${e.check.extraRuns} extra runs` : ''}`,
    ];
  });
  console.log(
    table(
      [
        'workers',
        'steps/s',
        'vs 1 worker',
        'median overhead',
        'p99 overhead',
        'CPU',
        'completed once',
      ],
      rows,
    ),
  );
}

/**
 * Where a chain step's end goes: the finish transaction (the end and, with the hand-off, the
 * dependant's start), split into what Neo4j reported executing, the commit, and the rest (round
 * trips, the driver and the engine's JS), means over the given runs.
 */
export function finishSplit(runs: EngineResult[]): string {
  const sum = { count: 0, ms: 0, serverMs: 0, commitMs: 0, statements: 0 };
  for (const r of runs) {
    const t = r.profile.transactions.get('finish');
    if (!t) continue;
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += t[k];
  }
  if (sum.count === 0) return '  (no finish transaction was seen)';
  const mean = (v: number) => ms(v / sum.count);
  const rest = sum.ms - sum.serverMs - sum.commitMs;
  return (
    `  Its finish transaction (${(sum.statements / sum.count).toFixed(1)} statements), mean ` +
    `${mean(sum.ms)}: Neo4j executing the statements ${mean(sum.serverMs)}, the commit ` +
    `${mean(sum.commitMs)}, round trips, driver and engine JS ${mean(rest)}`
  );
}
