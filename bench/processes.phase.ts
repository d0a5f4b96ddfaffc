/**
 * The `processes` part of `npm run bench:orchestration`: where the Neo4j-backed queue saturates
 * as worker processes are added, against the same number of schedulers in one process. For 1,
 * 2, 4 and 8, the same 1,000-step DAG is run both ways, alternately: by k Scheduler instances in
 * this process (the saturation part's layout), and by k worker processes of one scheduler each
 * (bench/engine-worker.ts: what `npm run worker` runs, with the no-op executor), concurrency 8
 * everywhere. A process has one group commit of steps' ends (src/engine/group-commit.ts), so k
 * processes commit ends k at a time where k schedulers of one process commit them one group at
 * a time. With redis-server (Debian's package), the processes are also run with Redis
 * dispatch (a Redis of the benchmark's own, as `npm run worker` with REDIS_URL). All are measured
 * on the database's clock (the first step's start to the last one's end), since the processes'
 * own clocks are not this one's. Each worker process writes what its probe saw; the part prints
 * those added up.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { now } from './probe.js';
import { LAYER_WIDTH, CONCURRENCY, progress, sleep, withTimeout, type Bench } from './context.js';
import { createWorkflow, layeredDag, runEngine } from './engine.phase.js';
import { stepFigures, stepsEnded, workflowOutcome } from './queries.js';
import { mergedProfile, profileLines, table } from './report.js';
import { CpuMeter, int, median, ms, percentile, ratio } from './stats.js';
import { startRedisBus, startWorkerProcesses } from './worker-processes.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services/index.js';
import { redisServerBinary } from '../test/utils/redis.js';

type Layout = 'schedulers in one process' | 'worker processes' | 'processes, Redis dispatch';

interface LayoutRun {
  layout: Layout;
  k: number;
  stepsPerSecond: number;
  /** Per step: its last dependency's end to its own start, on the database's clock. */
  gaps: number[];
  cpu: string;
  completed: number;
  extraRuns: number;
}

export async function compareProcesses(b: Bench, opts: { steps: number; workers: number[] }) {
  const redis = redisServerBinary() ? await startRedisBus(createLogger('silent')) : null;
  console.log(
    `\n== Worker processes: a ${int(opts.steps)}-step DAG by k schedulers in this process and ` +
      `by k worker processes (one scheduler each)${redis ? ', without and with Redis dispatch' : ''}, ` +
      `alternately; concurrency ${CONCURRENCY} each ==`,
  );
  if (!redis) console.log('  (no redis-server: the processes run without Redis dispatch only)');
  const runs: LayoutRun[] = [];
  try {
    // The workflows' first steps are offered to the dispatch as their READY events publish.
    const onBus = redis && { ...b, services: createServices(b.graph, redis.bus) };
    for (const k of opts.workers) {
      console.log(`${k} scheduler(s) in this process...`);
      const inProcess = await runEngine(b, opts.steps, k);
      console.log(profileLines(opts.steps, inProcess.profile));
      b.warnings.length = 0;
      runs.push({
        layout: 'schedulers in one process',
        k,
        stepsPerSecond: opts.steps / inProcess.check.dbSeconds,
        gaps: inProcess.check.dbGaps,
        cpu: inProcess.cpu,
        completed: inProcess.check.completed,
        extraRuns: inProcess.check.extraRuns,
      });
      console.log(`${k} worker process(es)...`);
      runs.push(await runInProcesses(b, opts.steps, k, 'worker processes'));
      if (onBus) {
        console.log(`${k} worker process(es), Redis dispatch...`);
        const layout = 'processes, Redis dispatch';
        runs.push(await runInProcesses(onBus, opts.steps, k, layout, redis.env));
      }
    }
  } finally {
    await redis?.close();
  }
  printProcesses(runs);
}

/** The DAG run by k worker processes; this process only starts it and waits. */
async function runInProcesses(
  b: Bench,
  n: number,
  k: number,
  layout: Layout,
  env: Record<string, string> = {},
): Promise<LayoutRun> {
  const { rootId } = await createWorkflow(b, layeredDag(n, LAYER_WIDTH), LAYER_WIDTH);
  const profiles = mkdtempSync(join(tmpdir(), 'bench-orchestration-'));
  const workers = await startWorkerProcesses({
    count: k,
    concurrency: CONCURRENCY,
    settings: b.settings,
    tenantId: b.tenantId,
    entry: 'bench/engine-worker.ts',
    name: 'bench-orchestration-worker',
    env: { ...env, BENCH_PROFILE_DIR: profiles },
  });
  let stopped = false;
  try {
    const cpu = new CpuMeter(b.neo4jPid, workers.pids);
    const t0 = now();
    await b.services.workflows.start(b.tenantId, rootId);
    let ended = 0;
    const ticker = progress(
      `${k} worker process(es), ${int(n)} steps`,
      n,
      () => ended,
      () => t0,
    );
    try {
      await withTimeout(
        (async () => {
          while ((ended = await stepsEnded(b.graph, b.tenantId, rootId)) < n) await sleep(250);
        })(),
        `the ${n}-step workflow in ${k} worker process(es)`,
      );
    } finally {
      clearInterval(ticker);
    }
    const cpuLine = cpu.read();
    await workers.stop();
    stopped = true;
    const profile = mergedProfile(
      readdirSync(profiles).map((f) => readFileSync(join(profiles, f), 'utf8')),
    );
    console.log(profileLines(n, profile));
    const { steps } = await workflowOutcome(b.graph, b.tenantId, rootId);
    const { dbGaps, dbSeconds, completed, extraRuns } = stepFigures(steps);
    return {
      layout,
      k,
      stepsPerSecond: n / dbSeconds,
      gaps: dbGaps,
      cpu: cpuLine,
      completed,
      extraRuns,
    };
  } finally {
    if (!stopped) await workers.stop();
    rmSync(profiles, { recursive: true, force: true });
  }
}

function printProcesses(runs: LayoutRun[]): void {
  const first = (layout: Layout) => runs.find((r) => r.layout === layout)!;
  const rows = runs.map((r) => {
    const inProcess = runs.find((x) => x.layout === 'schedulers in one process' && x.k === r.k)!;
    return [
      String(r.k),
      r.layout,
      int(r.stepsPerSecond),
      ratio(r.stepsPerSecond, first(r.layout).stepsPerSecond),
      r === inProcess ? '' : ratio(r.stepsPerSecond, inProcess.stepsPerSecond),
      ms(median(r.gaps)),
      ms(percentile(r.gaps, 99)),
      r.cpu,
      `${r.completed}${r.extraRuns ? `, ${r.extraRuns} extra runs` : ''}`,
    ];
  });
  console.log(
    table(
      [
        'k',
        'layout',
        'steps/s (db clock)',
        'vs k = 1',
        'processes ÷ one process',
        'dependency end -> start, median',
        'p99',
        'CPU',
        'completed once',
      ],
      rows,
    ),
  );
}
