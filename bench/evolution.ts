/**
 * `npm run bench:evolution` (issue 12): does the platform get better at recurring work by
 * itself? Not a test (`npm test` does not run it); it prints figures and exits 0 whether or not
 * the goals are met.
 *
 * The world is bench/evolution-env.ts: recurring task families whose hidden success rules a
 * result meets only when the run's prompt carried the right knowledge, hidden skill per agent
 * and capability, noise, and a shift midway (one family's rule changes). The platform is the
 * real one, in this process: the API on a free port, the engine's scheduler with the agents'
 * chains (the offline model unless BENCH_REAL), the graph on the configured Neo4j.
 *
 * For each seed, two arms run the same K rounds of M tasks, each in a tenant of its own:
 * - learning ON: after each round the learning loop (every pass in EVOLUTION_PASSES) ticks
 *   BENCH_TICKS times;
 * - learning OFF: the same platform with no loop (EVOLUTION=off), the static baseline.
 * Each task goes in with submitTask, is waited for through the API, judged by the environment
 * as a user would, and rated back with rateTask(taskId, score, comment) (when the API has it).
 * Knobs: BENCH_SEEDS, BENCH_ROUNDS, BENCH_TASKS, BENCH_SHIFT_ROUND, BENCH_LAST, BENCH_FAMILIES,
 * BENCH_TICKS, BENCH_ARMS, BENCH_REAL, BENCH_PARALLEL, BENCH_ROUND_TIMEOUT_MS
 * (bench/evolution-context.ts).
 * Tenants bench-evolution-<uuid>-* are deleted at the end (BENCH_KEEP=1 keeps them to browse).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { connectGraph } from '../graph/graph.js';
import { migrate } from '../graph/migrate.js';
import { resolveGraphSettings } from '../src/cli/bootstrap.js';
import { loadConfig } from '../src/config/config.js';
import { EVOLUTION_PASSES } from '../src/evolution/passes.js';
import { llmEnvSchema, llmFromEnv } from '../src/llm/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server/server.js';
import { runArm } from './evolution-arm.phase.js';
import { benchOptions, progressBar, type Arm, type EvolutionBench } from './evolution-context.js';
import { DEFAULT_ENV, EvolutionEnv } from './evolution-env.js';
import { deleteBenchTenant } from './evolution-queries.js';
import { REAL_ENV, REAL_FAMILIES } from './evolution-real.js';
import { printSeed, printSummary, type SeedResult } from './evolution-report.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const probeOptions = benchOptions(config.llm);
  // The offline model unless the run is about a real one: a configured key alone changes nothing
  // when BENCH_REAL=0.
  const llm = probeOptions.real ? config.llm : llmFromEnv(llmEnvSchema.parse({}));
  const options = benchOptions(llm);
  options.real = probeOptions.real;
  const log = (line: string) => console.log(`[neo4j] ${line}`);
  const graph = await connectGraph(await resolveGraphSettings(config, log), { log, attempts: 5 });
  await migrate(graph, log);
  const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? 'error', process.stderr);
  const server = await startServer({
    config: {
      env: 'development',
      host: '127.0.0.1',
      port: 0,
      // The bench sends a few thousand requests a minute through one key.
      limits: {
        ...config.limits,
        rateLimitPerMinute: 1_000_000,
        tenantRateLimitPerMinute: 1_000_000,
      },
    },
    graph,
    logger,
    llm,
    budgets: config.budgets,
    retentionSweep: false,
  });
  const b: EvolutionBench = { graph, server, config, llm, logger, options, tenants: [] };
  const runId = randomUUID().slice(0, 8);
  const envOf = (seed: number) =>
    options.real
      ? new EvolutionEnv({ ...REAL_ENV, seed, shiftRound: options.shiftRound - 1 }, REAL_FAMILIES)
      : new EvolutionEnv({
          ...DEFAULT_ENV,
          families: options.families,
          seed,
          shiftRound: options.shiftRound - 1,
        });
  const sample = envOf(1);
  const [one, five] = loadavg();
  console.log(
    [
      `Evolution benchmark (issue 12), run ${runId}`,
      `  machine: ${cpus().length} cores, load average ${one!.toFixed(2)} / ${five!.toFixed(2)}`,
      `  model: ${llm.provider === 'offline' ? 'the offline model (deterministic; follows instructions found in its prompt)' : `${llm.provider} ${llm.model} (real)`}`,
      `  ${options.seeds} seed(s) x ${options.arms.map((a) => `learning ${a}`).join(' and ')}: ` +
        `K = ${options.rounds} rounds of M = ${options.tasks} tasks; last ${options.last} round(s) compared; ` +
        `${options.ticks} loop tick(s) between rounds; arms ${options.parallel ? 'side by side' : 'one after the other'}`,
      `  learning passes: ${EVOLUTION_PASSES.map((p) => p.name).join(', ') || 'NONE YET (the loop has nothing to run)'}`,
      `  learning settings (EVOLUTION_*, the platform's defaults unless set): ${settings(config)}`,
      ...sample.describe().map((l) => `  ${l}`),
      `  agents: a Chief of Staff and 4 operators (research/writing/analysis, two or three each), all at proficiency 0.5`,
    ].join('\n'),
  );
  const results: SeedResult[] = [];
  const bar = progressBar(options.seeds * options.arms.length * options.rounds);
  let missing: string[] = [];
  try {
    for (let seed = 1; seed <= options.seeds; seed++) {
      const env = envOf(seed);
      const r: SeedResult = { seed };
      const run = async (arm: Arm) => {
        const result = await runArm(b, env, seed, arm, runId, (label) => bar.step(label));
        r[arm] = result;
        missing = result.surface.missing;
      };
      // Both arms at once halve the wait; each has its own tenant, scheduler and loop.
      if (options.parallel) await Promise.all(options.arms.map(run));
      else for (const arm of options.arms) await run(arm);
      results.push(r);
    }
    bar.done();
    if (missing.length) console.log(`\nAPI: ${missing.join('; ')}`);
    for (const r of results) printSeed(r, options);
    const example = results.at(-1)?.on?.example;
    if (example)
      console.log(
        `\nWhat one task produced in the last round (learning on):\n${example.slice(0, 1200)}`,
      );
    printSummary(results, options, sample.shifting?.name);
  } finally {
    bar.done();
    if (process.env.BENCH_KEEP !== '1') {
      for (const t of b.tenants) await deleteBenchTenant(graph, t);
      console.log(`\nDeleted the bench's ${b.tenants.length} tenants.`);
    } else {
      console.log(`\nKept the tenants: ${b.tenants.join(', ')}`);
    }
    await server.close();
    await graph.close();
  }
}

/** The loop's knobs as configured, e.g. lessons {candidateShare 0.5, minApplied 5, ...}. */
function settings(config: ReturnType<typeof loadConfig>): string {
  const {
    enabled: _e,
    intervalMs: _i,
    ...parts
  } = config.evolution as unknown as Record<string, unknown>;
  return (
    Object.entries(parts)
      .map(([k, v]) => `${k} ${JSON.stringify(v).replace(/"/g, '').replace(/,/g, ', ')}`)
      .join('; ') || 'none'
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
