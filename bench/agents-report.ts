import { printStatements, type StatementTotal } from './statement-totals.js';
import { int, ms, percentile } from './stats.js';

/** What one layout of `npm run bench:agents` measured (bench/agents.ts). */
export interface LayoutResult {
  layout: string;
  elapsed: number;
  failed: number;
  /** Requests answered "busy" (503, nothing done) and sent again. */
  busy: number;
  idle: number[];
  latencies: number[];
  errors: number;
  runs: { agentId: string; startedAt: number; endedAt: number | null; lapsed: boolean }[];
  /** The statements this process sent during the load (with the schedulers, in-process). */
  statements: StatementTotal[];
}

/** The most runs under way at one moment. */
function peakRuns(runs: LayoutResult['runs']): number {
  const edges = runs.flatMap(
    (x) =>
      [
        [x.startedAt, 1],
        [x.endedAt ?? x.startedAt, -1],
      ] as const,
  );
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (running += d));
  return peak;
}

/** The summary table, where the database time went, and the layouts' ratios. */
export function report(results: LayoutResult[], tasks: number) {
  console.log('\n== Summary (targets: no error; simple query p99 under 100 ms during the load) ==');
  console.log(
    '| layout | finished in | failed | answered busy, sent again | runs/s | agents that ran | most runs at once | runs taken back, lease lapsed | simple query idle p50 / p99 | under load p50 / p99 / max | p99 ÷ idle p99 | query errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const idle99 = percentile(r.idle, 99);
    const load99 = percentile(r.latencies, 99);
    console.log(
      `| ${r.layout} | ${(r.elapsed / 1000).toFixed(1)} s | ${int(r.failed)} of ${int(tasks)} | ${int(r.busy)} | ` +
        `${(r.runs.length / (r.elapsed / 1000)).toFixed(1)} | ${int(new Set(r.runs.map((x) => x.agentId)).size)} | ` +
        `${int(peakRuns(r.runs))} | ${int(r.runs.filter((x) => x.lapsed).length)} | ` +
        `${ms(percentile(r.idle, 50))} / ${ms(idle99)} | ` +
        `${ms(percentile(r.latencies, 50))} / ${ms(load99)} / ${ms(Math.max(...r.latencies))} | ` +
        `${(load99 / idle99).toFixed(1)}× | ${int(r.errors)} |`,
    );
  }
  for (const r of results) {
    const whose = r.layout === 'in-process' ? 'the API and its schedulers' : 'the API alone';
    console.log(`\nWhere the database time went, ${r.layout} (${whose}):`);
    printStatements(r.statements, r.runs.length);
  }
  const [a, b] = results;
  if (a && b) {
    const ratio = percentile(b.latencies, 99) / percentile(a.latencies, 99);
    const speed = a.elapsed / b.elapsed;
    console.log(
      `\n${b.layout} against ${a.layout}, same run: simple query p99 ${ratio.toFixed(2)}×, ` +
        `completion ${speed.toFixed(2)}× as fast`,
    );
  }
}
