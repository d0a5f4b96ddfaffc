/**
 * `npm run bench:orchestration`: how fast the orchestration engine moves steps, against the
 * bare cost of the statements it needs. Not a test (`npm test` does not run it); it prints
 * figures and exits 0 whether or not the targets are met.
 *
 * ENGINE: 4 Scheduler instances in this process (concurrency 8 each, pollMs 10, 8 agents) run a
 * layered DAG of N steps under one root task with a no-op executor. Per step, all on this
 * process's clock:
 *   before = executor called - the step became claimable; claimable = the moment the commit of
 *            its last dependency's completion was acknowledged (the engine's UnitOfWork.run
 *            returned after an endRun that made the dependency COMPLETED), or, for first-layer
 *            steps, the moment startWorkflow's transaction returned;
 *   after  = the step's own completion commit acknowledged (same hook) - the executor returned;
 *   overhead = before + after (the no-op executor itself takes microseconds).
 * So it covers the poll wait, promotion, waiting for a free slot (32 in all), the claim
 * transaction (assignment, Run record, events), the finish transaction (endRun, statistics,
 * events, settling the parent), lock waits and the driver's retries.
 * CHAIN: the same with a DAG of width 1 (one step in flight: below saturation), at the engine's
 * default poll, twice with the hand-off (src/engine/hand-off.ts) and twice without, alternately.
 * Steps/s = N / (last completion commit - workflow start). Afterwards a Cypher check confirms
 * every step COMPLETED with exactly one Run and the root COMPLETED, and recomputes the gap from
 * the last dependency's Run.endedAt to the step's Run.startedAt on the database's clock.
 *
 * PROCESSES: the same DAG by k schedulers here against k worker processes of one scheduler each
 * (bench/processes.phase.ts), with and without Redis dispatch, on the database's clock.
 *
 * BASELINE: the same claim, run-record and completion statements (claimReadyTasks limit 1 +
 * startRun in one transaction, endRun in a second: one step per transaction, as the engine does)
 * called straight through Graph by 4 concurrent loops over N flat READY tasks: no Scheduler, no
 * assignment scoring, no promotion, no events. Per-step time = claim transaction start -> endRun
 * commit acknowledged. A "commit floor" line shows what 4 loops of one-statement write
 * transactions on separate nodes reach, the database's own limit on this machine.
 *
 * Every statement and transaction of both is timed by bench/probe.ts and printed by kind; a
 * transaction's time also split into before its first statement, between them and its commit.
 * Runs in a tenant of its own (bench-<uuid>) whose nodes it deletes at the end, on a database
 * holding a history of the engine's steps in another (history.phase.ts), made once and kept.
 */
import { randomUUID } from 'node:crypto';
import { connectGraph } from '../graph/graph.js';
import { localNeo4jPid } from '../graph/local/launcher.js';
import { migrate } from '../graph/migrate.js';
import { localNeo4jOptions, resolveGraphSettings } from '../src/cli/bootstrap.js';
import { loadConfig } from '../src/config/config.js';
import { AgentRole } from '../src/domain/agent.js';
import { createServices } from '../src/services/index.js';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';
import { commitFloor, runBaseline } from './baseline.phase.js';
import { compareDispatch } from './dispatch.phase.js';
import {
  AGENTS,
  CONCURRENCY,
  LAYER_WIDTH,
  LEASE_MS,
  PER_AGENT_LIMIT,
  POLL_MS,
  WORKERS,
  range,
  type Bench,
} from './context.js';
import { runEngine, type EngineResult } from './engine.phase.js';
import { ensureHistory } from './history.phase.js';
import { InstrumentedUnitOfWork, Probe } from './probe.js';
import { compareProcesses } from './processes.phase.js';
import { deleteTenantNodes } from './queries.js';
import {
  printBaseline,
  printEngine,
  printSaturation,
  printSummary,
  finishSplit,
  type BaselineResult,
} from './report.js';
import { int, median, ms, percentile } from './stats.js';

const SIZES = [100, 1_000];
/** Steps of the chain whose overhead is measured below saturation. */
const CHAIN = 50;
/** The chain's scheduler poll: the engine's default (Scheduler's pollMs). */
const CHAIN_POLL_MS = 250;
const WARM_UP = 30;
/** Where the Neo4j-backed queue saturates: the same DAG run by 1, 2, 4 and 8 schedulers. */
const SATURATION = { steps: 1_000, workers: [1, 2, 4, 8] };

/**
 * BENCH_ORCHESTRATION_HISTORY: completed steps the database holds besides the benchmark's own
 * (history.phase.ts; 0: none made).
 */
const HISTORY_STEPS = Number(process.env.BENCH_ORCHESTRATION_HISTORY ?? 4_000);

/** BENCH_ORCHESTRATION_PARTS: which parts to run (comma-separated); all by default. */
const PARTS = ['dags', 'chain', 'saturation', 'processes', 'dispatch'];

/** BENCH_ORCHESTRATION_PROCESSES: the numbers of worker processes of the `processes` part. */
function processCounts(): number[] {
  const text = process.env.BENCH_ORCHESTRATION_PROCESSES ?? SATURATION.workers.join(',');
  const counts = text.split(',').map((c) => Number(c.trim()));
  if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > 32)) {
    throw new Error(
      `BENCH_ORCHESTRATION_PROCESSES: "${text}" is not a comma-separated list of whole numbers from 1 to 32`,
    );
  }
  return counts;
}

async function main(): Promise<void> {
  const parts = new Set(
    (process.env.BENCH_ORCHESTRATION_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim()),
  );
  const unknown = [...parts].filter((p) => !PARTS.includes(p));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_ORCHESTRATION_PARTS: unknown part(s) ${unknown.join(', ')}; choose from ${PARTS.join(', ')}`,
    );
  }
  if (!Number.isInteger(HISTORY_STEPS) || HISTORY_STEPS < 0) {
    throw new Error(
      `BENCH_ORCHESTRATION_HISTORY: "${process.env.BENCH_ORCHESTRATION_HISTORY}" is not a whole number of steps (0 or more)`,
    );
  }
  const config = loadConfig();
  const log = (line: string) => console.log(`[neo4j] ${line}`);
  const settings = await resolveGraphSettings(config, log);
  const graph = await connectGraph(settings, { log, attempts: 5 });
  await migrate(graph, log);
  const pubsub = createInProcessPubSub();
  const probe = new Probe();
  const b: Bench = {
    graph,
    settings,
    services: createServices(graph, pubsub),
    tenantId: `bench-${randomUUID()}`,
    agentIds: [],
    probe,
    pubsub,
    uow: new InstrumentedUnitOfWork(graph, pubsub, probe),
    neo4jPid: config.neo4j.uri ? undefined : localNeo4jPid(localNeo4jOptions(config, log).home),
    warnings: [],
    schedulers: [],
  };
  console.log(
    [
      `Orchestration benchmark in tenant ${b.tenantId}`,
      `  ${WORKERS} workers (Scheduler instances in this process), concurrency ${CONCURRENCY} each, ` +
        `pollMs ${POLL_MS}, leaseMs ${LEASE_MS}; ${AGENTS} MASTER_OPERATOR agents, perAgentLimit ${PER_AGENT_LIMIT}; no-op executor`,
      `  DAG of N steps under one root task: layers of ${LAYER_WIDTH} steps, each step after the first layer depends on 2 steps of the layer before`,
      `  baseline: claimReadyTasks(limit 1) + startRun in one transaction, endRun in another, by ${WORKERS} concurrent loops over N flat READY tasks`,
    ].join('\n'),
  );
  const results: { engine: EngineResult; baseline: BaselineResult }[] = [];
  try {
    const agents = await b.services.agents.createMany(
      b.tenantId,
      range(AGENTS).map((i) => ({ name: `bench agent ${i + 1}`, role: AgentRole.MASTER_OPERATOR })),
    );
    b.agentIds = agents.map((a) => a.id);

    await ensureHistory(b, HISTORY_STEPS);
    console.log(`\nWarm-up (${WARM_UP} steps each, not reported)...`);
    await runBaseline(b, WARM_UP);
    await runEngine(b, WARM_UP);
    b.warnings.length = 0;
    const floor = await commitFloor(b);
    console.log(
      `Commit floor: ${WORKERS} loops of one-statement write transactions on separate nodes: ` +
        `${int(floor.perSecond)} commits/s, median ${ms(median(floor.times))}, p99 ${ms(percentile(floor.times, 99))}`,
    );

    if (parts.has('dags')) {
      for (const n of SIZES) {
        console.log(`\n== ${int(n)} steps ==`);
        console.log(`Baseline, ${int(n)} flat READY tasks...`);
        const baseline = await runBaseline(b, n);
        printBaseline(baseline);
        console.log(`Engine, a ${int(n)}-step DAG...`);
        const engine = await runEngine(b, n);
        printEngine(engine, b.warnings.splice(0));
        results.push({ engine, baseline });
      }
      printSummary(results);
    }

    if (parts.has('chain')) {
      // The target's "below saturation": one step in flight, so no step waits behind another.
      // Steps start on task events there; the poll is only the fallback, at the engine's
      // default (at 10 ms, the three idle schedulers' reads alone kept Neo4j busy).
      console.log(
        `\n== Below saturation: a chain of ${CHAIN} steps (each waits for the one before), ` +
          `pollMs ${CHAIN_POLL_MS}; with and without the hand-off, alternately ==`,
      );
      const runs: { handOff: boolean; result: EngineResult }[] = [];
      for (const handOff of [true, false, true, false]) {
        console.log(`Chain, hand-off ${handOff ? 'on' : 'off'}...`);
        const result = await runEngine(b, CHAIN, WORKERS, 1, { pollMs: CHAIN_POLL_MS, handOff });
        printEngine(result, b.warnings.splice(0));
        runs.push({ handOff, result });
      }
      const overheads = (on: boolean) =>
        runs.filter((r) => r.handOff === on).flatMap((r) => r.result.overhead);
      const [on, off] = [median(overheads(true)), median(overheads(false))];
      console.log(
        `  Hand-off (a step's end starts its dependant in its own commit): median overhead ` +
          `${ms(on)} against ${ms(off)} without (${(off / on).toFixed(2)}x), both runs of each`,
      );
      console.log(finishSplit(runs.filter((r) => r.handOff).map((r) => r.result)));
      console.log(
        `  Target: median overhead per step under 10 ms below saturation: ${on < 10 ? 'MET' : 'NOT MET'} (${ms(on)})`,
      );
    }

    if (parts.has('saturation')) {
      console.log(
        `\n== Saturation: a ${int(SATURATION.steps)}-step DAG by 1 to 8 schedulers (concurrency ${CONCURRENCY} each) ==`,
      );
      const series: EngineResult[] = [];
      for (const workers of SATURATION.workers) {
        console.log(`Engine, ${workers} worker(s)...`);
        series.push(await runEngine(b, SATURATION.steps, workers));
        b.warnings.length = 0;
      }
      printSaturation(series);
    }

    if (parts.has('processes')) {
      await compareProcesses(b, { ...SATURATION, workers: processCounts() });
    }

    if (parts.has('dispatch')) {
      await compareDispatch(b, { ...SATURATION, chain: CHAIN, rounds: 2 });
    }
  } finally {
    try {
      await Promise.all(b.schedulers.map((s) => s.stop({ abort: true })));
      const deleted = await deleteTenantNodes(graph, b.tenantId);
      console.log(`\nDeleted the ${int(deleted)} nodes of tenant ${b.tenantId}.`);
    } finally {
      // A failed clean-up left the driver open and the process running after its error.
      await graph.close();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
