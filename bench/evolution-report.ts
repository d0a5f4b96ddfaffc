import type { ArmResult, RoundResult } from './evolution-arm.phase.js';
import type { EvolutionBenchOptions } from './evolution-context.js';
import type { Lifecycle } from './evolution-queries.js';
import { table } from './report.js';

/** The issue's goal: at least +25% relative success over the baseline in the last rounds. */
export const TARGET_RELATIVE_GAIN = 0.25;
/** Recovered: the shifting family's success in the last rounds is at least this share of its success before the shift. */
export const RECOVERY_SHARE = 0.8;

/** One seed's two arms. */
export interface SeedResult {
  seed: number;
  on?: ArmResult;
  off?: ArmResult;
}

const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${Math.round(v * 100)}%`);
const signed = (v: number) =>
  Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${Math.round(v * 100)}%` : 'n/a';
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sd = (xs: number[]) => {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const score = (v: number) => v.toFixed(2);
/** "41% ± 6 (35%..47%)" over seeds: the sd in points for rates, in score units for scores. */
const spread = (xs: number[], fmt = pct) => {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (ok.length === 0) return 'n/a';
  if (ok.length === 1) return fmt(ok[0]!);
  const s = sd(ok);
  const dev = fmt === pct ? String(Math.round(s * 100)) : fmt(s);
  return `${fmt(mean(ok))} ± ${dev} (${fmt(Math.min(...ok))}..${fmt(Math.max(...ok))})`;
};

/** Success rate and mean score over some rounds, optionally of one family only. */
function rate(
  rounds: RoundResult[],
  family?: string,
): { success: number; score: number; n: number } {
  let n = 0;
  let s = 0;
  let score = 0;
  for (const r of rounds) {
    if (family) {
      const [fn, fs] = r.families[family] ?? [0, 0];
      n += fn;
      s += fs;
    } else {
      n += r.n;
      s += r.successes;
      score += r.scoreSum;
    }
  }
  return { success: n ? s / n : NaN, score: n ? score / n : NaN, n };
}

/** Per round, both arms of one seed. */
export function printSeed(r: SeedResult, o: EvolutionBenchOptions): void {
  const rows: string[][] = [];
  for (let i = 0; i < o.rounds; i++) {
    const on = r.on?.rounds[i];
    const off = r.off?.rounds[i];
    const cell = (x: RoundResult | undefined) =>
      x
        ? [pct(x.successes / x.n), (x.scoreSum / x.n).toFixed(2), `${x.met}/${x.n}`]
        : ['-', '-', '-'];
    const l = on?.lessons;
    rows.push([
      `${i + 1}${o.shiftRound === i + 1 ? ' (shift)' : ''}`,
      ...cell(off),
      ...cell(on),
      l ? `${l.active}/${l.candidate}/${l.retired}` : '-',
      [off, on].map((x) => (x ? x.seconds.toFixed(0) : '-')).join('/'),
    ]);
  }
  console.log(`\n-- seed ${r.seed} --`);
  console.log(
    table(
      [
        'round',
        'off: success',
        'off: score',
        'off: rule met',
        'on: success',
        'on: score',
        'on: rule met',
        'on: lessons active/cand./retired',
        'round s off/on',
      ],
      rows,
    ),
  );
  for (const a of [r.on, r.off]) {
    if (!a) continue;
    const c = a.counts;
    const evals =
      Object.entries(c.evaluations)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none';
    console.log(
      `  learning ${a.arm}: ${lifecycleLine('lessons', c.lessons)}; ${lifecycleLine('skills', c.skills)}; ` +
        `${lifecycleLine('platform versions', c.versions)}; spawned agents ${c.spawned}; ` +
        `lesson/skill applications (APPLIED_IN) ${c.applied}; evaluations: ${evals}` +
        (a.arm === 'on' ? `; ${a.ticks.n} loop ticks in ${a.ticks.seconds.toFixed(1)} s` : '') +
        (a.ratingErrors.n
          ? `; ${a.ratingErrors.n} ratings refused, first: ${a.ratingErrors.first}`
          : ''),
    );
  }
  if (r.on?.lessons.length) {
    console.log('  lessons at the end (learning on):');
    for (const l of r.on.lessons.slice(0, 12)) {
      const scope = `${l.family ?? '-'} / ${l.capability ?? '-'}`;
      console.log(
        `    ${l.status.padEnd(9)} ${scope.padEnd(34)} applied ${String(l.applied).padStart(3)}  ${l.content}`,
      );
    }
  }
}

const lifecycleLine = (what: string, l: Lifecycle) =>
  `${what} created ${l.created}, promoted ${l.promoted}, retired ${l.retired}`;

/** The summary over seeds, and whether the goals were met. */
export function printSummary(
  results: SeedResult[],
  o: EvolutionBenchOptions,
  shifting?: string,
): void {
  const K = o.rounds;
  const lastFrom = K - o.last;
  const both = results.filter((r) => r.on && r.off);
  console.log('\n== Summary over seeds (mean ± sample sd, min..max) ==');
  const rows: string[][] = [];
  for (let i = 0; i < K; i++) {
    const of = (a: 'on' | 'off', f: (x: RoundResult) => number) =>
      results.flatMap((r) => (r[a]?.rounds[i] ? [f(r[a]!.rounds[i]!)] : []));
    rows.push([
      `${i + 1}${o.shiftRound === i + 1 ? ' (shift)' : ''}`,
      spread(of('off', (x) => x.successes / x.n)),
      spread(of('on', (x) => x.successes / x.n)),
      spread(
        of('off', (x) => x.scoreSum / x.n),
        score,
      ),
      spread(
        of('on', (x) => x.scoreSum / x.n),
        score,
      ),
    ]);
  }
  console.log(
    table(
      ['round', 'success, learning off', 'success, learning on', 'score, off', 'score, on'],
      rows,
    ),
  );

  const last = (a?: ArmResult) => (a ? rate(a.rounds.slice(lastFrom)) : undefined);
  const gains = both.map((r) => {
    const on = last(r.on)!.success;
    const off = last(r.off)!.success;
    return off > 0 ? (on - off) / off : on > 0 ? Infinity : 0;
  });
  const onLast = both.map((r) => last(r.on)!.success);
  const offLast = both.map((r) => last(r.off)!.success);
  const pooledOn = mean(onLast);
  const pooledOff = mean(offLast);
  const pooledGain = pooledOff > 0 ? (pooledOn - pooledOff) / pooledOff : NaN;
  const finite = gains.filter(Number.isFinite);
  console.log(
    [
      `\nLast ${o.last} round(s) (${lastFrom + 1}..${K}): success with learning ${spread(onLast)}, ` +
        `without ${spread(offLast)}`,
      `  relative improvement over the baseline: ${signed(pooledGain)} on the seeds' mean; ` +
        `per seed ${gains.map(signed).join(', ') || 'n/a'}${finite.length > 1 ? ` (sd ${Math.round(sd(finite) * 100)} points)` : ''}`,
    ].join('\n'),
  );
  const recovery = recoveryLines(both, o, shifting);
  console.log(recovery.lines.join('\n'));
  const totals = (f: (a: ArmResult) => number) => both.map((r) => f(r.on!)).join('/');
  if (both.length) {
    console.log(
      `Learning arm per seed (${both.map((r) => r.seed).join('/')}): lessons created ${totals((a) => a.counts.lessons.created)}, ` +
        `promoted ${totals((a) => a.counts.lessons.promoted)}, retired ${totals((a) => a.counts.lessons.retired)}; ` +
        `skills created ${totals((a) => a.counts.skills.created)}, promoted ${totals((a) => a.counts.skills.promoted)}, ` +
        `retired ${totals((a) => a.counts.skills.retired)}; platform versions created ${totals((a) => a.counts.versions.created)}, ` +
        `promoted ${totals((a) => a.counts.versions.promoted)}, rolled back/retired ${totals((a) => a.counts.versions.retired)}; ` +
        `spawned agents ${totals((a) => a.counts.spawned)}`,
    );
  }
  const metGain = Number.isFinite(pooledGain) ? pooledGain >= TARGET_RELATIVE_GAIN : pooledOn > 0;
  console.log(
    [
      'Goals (issue 12):',
      `  at least +${TARGET_RELATIVE_GAIN * 100}% relative success over the baseline in the last rounds: ` +
        `${both.length ? (metGain ? 'MET' : 'NOT MET') : 'not measured (both arms are needed)'} (${signed(pooledGain)})`,
      `  recovery after the shift: ${recovery.verdict}`,
    ].join('\n'),
  );
}

/** How the shifting family fared with learning: before the shift, just after, at the end. */
function recoveryLines(both: SeedResult[], o: EvolutionBenchOptions, family?: string) {
  if (!family || o.shiftRound <= 0 || !both.length) {
    return { lines: ['Shift: none in this run.'], verdict: 'not measured (no shift)' };
  }
  const s = o.shiftRound - 1;
  const w = Math.max(1, o.last);
  const window = (a: ArmResult, from: number, to: number) =>
    rate(a.rounds.slice(Math.max(0, from), Math.max(0, to)), family).success;
  const before = both.map((r) => window(r.on!, s - w, s));
  const after = both.map((r) => window(r.on!, s, s + 1));
  const end = both.map((r) => window(r.on!, o.rounds - w, o.rounds));
  const offEnd = both.map((r) => window(r.off!, o.rounds - w, o.rounds));
  const ended = o.rounds - w >= s + 1;
  const recovered = ended && mean(end) >= RECOVERY_SHARE * mean(before) && mean(end) > mean(offEnd);
  return {
    lines: [
      `Shift at round ${o.shiftRound} (${family}), learning on: success ${spread(before)} in the ${w} round(s) before, ` +
        `${spread(after)} in the shift round, ${spread(end)} in the last ${w} (learning off: ${spread(offEnd)})`,
    ],
    verdict: !ended
      ? 'not measured (the last rounds start before the round after the shift)'
      : recovered
        ? `MET (${pct(mean(end))} at the end vs ${pct(mean(before))} before the shift and ${pct(mean(offEnd))} without learning)`
        : `NOT MET (${pct(mean(end))} at the end vs ${pct(mean(before))} before the shift; ` +
          `needs ${Math.round(RECOVERY_SHARE * 100)}% of the level before and more than without learning, ${pct(mean(offEnd))})`,
  };
}
