/**
 * `npm run bench:agents`: an organisation under load. BENCH_AGENTS_TASKS tasks (default 200)
 * are submitted at once over HTTP (submitTask) to BENCH_AGENTS_CHIEFS Chiefs of Staff (10), and
 * planned and carried out by BENCH_AGENTS_OPERATORS Master Operators (1,000) on the configured
 * model (offline by default) by BENCH_AGENTS_WORKERS schedulers (2, each running
 * BENCH_AGENTS_CONCURRENCY steps at a time, 64), the same agent runtime `npm start` runs; once
 * per layout of BENCH_AGENTS_LAYOUTS (default both): `in-process` (the schedulers in the API's
 * process) and `processes` (`npm run worker` processes beside it); `redis` on request (those
 * processes with events and step dispatch through a redis-server the benchmark starts). A
 * simple query (one agent's id and status) is sent every 50 ms, first for 5 s on the idle
 * platform (its baseline, after 1 s of it not timed), then during the load. Prints per layout
 * the completion time, runs per second, failures, how many operators worked, how many runs
 * went at once at the peak and how many a sweep took back because their lease lapsed, and the
 * simple query's p50 and p99 idle and under load, with the layouts' ratios.
 * LLM_OFFLINE_DELAY_MS gives each offline model call a latency, so that many runs are under
 * way at once as on a real model. Not a test: it prints figures and exits 0 whether or not
 * the targets are met (no error, simple query p99 under 100 ms). Each layout runs in a tenant
 * of its own (bench-agents-<uuid>), deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { generateApiKey } from '../src/auth/keys.js';
import { AgentRole } from '../src/domain/agent.js';
import { UNLIMITED_BUDGETS } from '../src/domain/budget.js';
import { openEnginePool, schedulerFromConfig } from '../src/engine/start.js';
import { createLogger } from '../src/logger.js';
import type { startServer } from '../src/server/server.js';
import { now } from './probe.js';
import { deleteTenantInBatches, runIntervals } from './queries.js';
import { openBenchGraph, startBenchServer } from './server.js';
import { startRedisBus, startWorkerProcesses } from './worker-processes.js';
import { report, type LayoutResult } from './agents-report.js';
import { int, ms } from './stats.js';
import { statementsBetween, statementTotals } from './statement-totals.js';

/** A whole number from the environment, or the fallback; anything else stops with its name. */
function env(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name}: "${process.env[name]}" is not a whole number (0 or more)`);
  }
  return value;
}
const TASKS = env('BENCH_AGENTS_TASKS', 200);
const CHIEFS = env('BENCH_AGENTS_CHIEFS', 10);
const OPERATORS = env('BENCH_AGENTS_OPERATORS', 1_000);
const WORKERS = env('BENCH_AGENTS_WORKERS', 2);
const CONCURRENCY = env('BENCH_AGENTS_CONCURRENCY', 64);
/** submitTask requests in flight at once while submitting; default all of them. */
const SUBMIT_CONCURRENCY = env('BENCH_AGENTS_SUBMIT_CONCURRENCY', TASKS);
const CAPABILITIES = ['research', 'analysis', 'writing'];
const BRIEF =
  'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.';
/** No task or step finished for this long: the benchmark stops (several model calls a step). */
const stallMs = (modelDelayMs: number) => Math.max(120_000, 10 * modelDelayMs);

/** `redis`: worker processes, with events and step dispatch through a Redis of the benchmark's. */
const ALL_LAYOUTS = ['in-process', 'processes', 'redis'] as const;
type Layout = (typeof ALL_LAYOUTS)[number];
const LAYOUTS = (process.env.BENCH_AGENTS_LAYOUTS ?? 'in-process,processes')
  .split(',')
  .map((l) => l.trim()) as Layout[];
for (const l of LAYOUTS) {
  if (!ALL_LAYOUTS.includes(l)) {
    throw new Error(`BENCH_AGENTS_LAYOUTS: unknown layout "${l}" (${ALL_LAYOUTS.join(', ')})`);
  }
}
if (!Number.isInteger(SUBMIT_CONCURRENCY) || SUBMIT_CONCURRENCY < 1) {
  throw new Error('BENCH_AGENTS_SUBMIT_CONCURRENCY: a whole number of at least 1');
}
/** How long the simple query is timed on an idle platform first: the baseline of its p99. */
const IDLE_MS = 5_000;
/** Sent and not timed before it: the first answers of a fresh API (its plans, its JIT). */
const WARM_UP_MS = 1_000;
/** Times a request answered "busy" is sent in all. */
const BUSY_ATTEMPTS = 10;

type GqlError = { extensions?: { code?: string; retryAfterSeconds?: number } };

async function main(): Promise<void> {
  const bench = await openBenchGraph();
  console.log(
    `Agents benchmark: ${int(TASKS)} submitted tasks, ${int(CHIEFS)} Chiefs of Staff, ` +
      `${int(OPERATORS)} Master Operators on the ${bench.config.llm.provider} model` +
      (bench.config.llm.provider === 'offline' && bench.config.llm.offlineDelayMs > 0
        ? ` (${int(bench.config.llm.offlineDelayMs)} ms a call, LLM_OFFLINE_DELAY_MS); `
        : '; ') +
      `${WORKERS} schedulers x ${CONCURRENCY} steps at a time; layouts: ${LAYOUTS.join(', ')}`,
  );
  const results: LayoutResult[] = [];
  try {
    for (const layout of LAYOUTS) results.push(await runLayout(bench, layout));
  } finally {
    await bench.graph.close();
  }
  report(results, TASKS);
}

/** One run of the load in a tenant of its own, with the schedulers laid out as `layout` says. */
async function runLayout(
  { config, settings, graph }: Awaited<ReturnType<typeof openBenchGraph>>,
  layout: Layout,
): Promise<LayoutResult> {
  const logger = createLogger('warn');
  const redis = layout === 'redis' ? await startRedisBus(logger) : null;
  const server = await startBenchServer(graph, {
    logger,
    llm: config.llm,
    budgets: UNLIMITED_BUDGETS,
    ...(redis ? { pubsub: redis.bus } : {}),
  });
  const tenantId = `bench-agents-${randomUUID()}`;
  const key = generateApiKey();
  await server.services.auth.ensureAdminKey(tenantId, key, 'bench');
  // As a client should: a "busy" answer (503 SERVICE_UNAVAILABLE, nothing done) is sent again
  // after its retryAfterSeconds, a few times; each is counted and reported.
  let busy = 0;
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, unknown>; errors?: GqlError[] };
      const wait = body.errors?.[0]?.extensions?.retryAfterSeconds;
      const unavailable = body.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE';
      if (unavailable && wait && attempt < BUSY_ATTEMPTS) {
        busy++;
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
      return body.data!;
    }
  };
  const where = {
    'in-process': `${WORKERS} schedulers inside the API process`,
    processes: `${WORKERS} npm run worker processes beside the API`,
    redis: `${WORKERS} npm run worker processes beside the API, events and step dispatch through Redis`,
  };
  console.log(`\n== ${where[layout]} (tenant ${tenantId}) ==`);
  let stopSchedulers = async () => {};
  try {
    const agentIds = await makeAgents(server.services, tenantId);
    const simpleQuery = () =>
      gql('query($id: ID!) { agent(id: $id) { id status } }', { id: agentIds[0] });
    const warmUp = probeLoop(simpleQuery);
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    await warmUp.stop();
    const idleProbe = probeLoop(simpleQuery);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = (await idleProbe.stop()).latencies;
    stopSchedulers = await startSchedulers(layout, {
      config,
      settings,
      server,
      logger,
      tenantId,
      redisEnv: redis?.env,
    });

    const probe = probeLoop(simpleQuery);
    const sentBefore = await statementTotals();
    const started = now();
    let next = 0;
    const submitter = async () => {
      for (let i = next++; i < TASKS; i = next++) {
        await gql('mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', {
          input: { title: `Brief ${i + 1}`, description: BRIEF },
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(SUBMIT_CONCURRENCY, TASKS) }, submitter));
    console.log(
      `  ${int(TASKS)} tasks submitted in ${ms(now() - started)}` +
        (SUBMIT_CONCURRENCY < TASKS ? `, ${int(SUBMIT_CONCURRENCY)} at a time` : ''),
    );
    const finished = await waitForRoots(gql, started, config.llm.offlineDelayMs);
    const elapsed = now() - started;
    const { latencies, errors } = await probe.stop();
    const statements = statementsBetween(sentBefore, await statementTotals());
    const runs = await runIntervals(graph, tenantId);
    const result = { layout, elapsed, failed: finished.failed, idle, latencies, errors, runs };
    return { ...result, busy, statements };
  } finally {
    await stopSchedulers();
    await server.close();
    await redis?.close();
    // A clean-up that fails is said, and does not take the layout's result with it.
    await deleteTenantInBatches(graph, tenantId).then(
      (deleted) =>
        console.log(`  deleted tenant ${tenantId} (${int(deleted)} nodes and relationships)`),
      (err: Error) => console.log(`  could not delete tenant ${tenantId}: ${err.message}`),
    );
  }
}

/** Starts the schedulers for `layout`; resolves with how to stop them. */
async function startSchedulers(
  layout: Layout,
  ctx: {
    config: Awaited<ReturnType<typeof openBenchGraph>>['config'];
    settings: Awaited<ReturnType<typeof openBenchGraph>>['settings'];
    server: Awaited<ReturnType<typeof startBenchServer>>;
    logger: ReturnType<typeof createLogger>;
    tenantId: string;
    redisEnv?: Record<string, string>;
  },
): Promise<() => Promise<void>> {
  if (layout !== 'in-process') {
    const started = now();
    const workers = await startWorkerProcesses({
      count: WORKERS,
      concurrency: CONCURRENCY,
      settings: ctx.settings,
      tenantId: ctx.tenantId,
      env: ctx.redisEnv,
    });
    console.log(`  ${WORKERS} worker processes running after ${ms(now() - started)}`);
    return () => workers.stop();
  }
  // As `npm start` runs them: on a connection pool of their own (openEnginePool).
  const pool = await openEnginePool(ctx.settings, ctx.server.services.uow, () => {});
  const schedulers = Array.from({ length: WORKERS }, (_, i) =>
    schedulerFromConfig(
      {
        ...ctx.config,
        budgets: UNLIMITED_BUDGETS,
        engine: { ...ctx.config.engine, concurrency: CONCURRENCY },
      },
      {
        uow: pool.uow,
        logger: ctx.logger,
        pubsub: ctx.server.pubsub,
        workerId: `bench-agents-${i + 1}`,
        tenantIds: [ctx.tenantId],
      },
    ),
  );
  for (const s of schedulers) s.start();
  return async () => {
    await Promise.all(schedulers.map((s) => s.stop({ abort: true })));
    await pool.close();
  };
}

async function makeAgents(
  services: Awaited<ReturnType<typeof startServer>>['services'],
  tenantId: string,
) {
  const ids: string[] = [];
  const inputs = [
    ...Array.from({ length: CHIEFS }, (_, i) => ({
      name: `Chief ${i + 1}`,
      role: AgentRole.CHIEF_OF_STAFF,
      capabilities: [],
    })),
    ...Array.from({ length: OPERATORS }, (_, i) => ({
      name: `Operator ${i + 1}`,
      role: AgentRole.MASTER_OPERATOR,
      capabilities: [{ name: CAPABILITIES[i % CAPABILITIES.length]! }],
    })),
  ];
  for (let i = 0; i < inputs.length; i += 100) {
    const made = await services.agents.createMany(tenantId, inputs.slice(i, i + 100));
    ids.push(...made.map((a) => a.id));
  }
  return ids;
}

/** Sends `query` every 50 ms (never two at once); keeps each latency and counts failures. */
function probeLoop(query: () => Promise<unknown>) {
  const latencies: number[] = [];
  let errors = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const sent = now();
      await query().then(
        () => latencies.push(now() - sent),
        () => (errors += 1),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { latencies, errors };
    },
  };
}

type Gql = (query: string, variables?: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** Waits until every submitted task is finished, printing progress; fails on a stall. */
async function waitForRoots(
  gql: Gql,
  started: number,
  modelDelayMs: number,
): Promise<{ failed: number }> {
  const stall = stallMs(modelDelayMs);
  let last = -1;
  let movedAt = now();
  for (;;) {
    // A progress read the database is too busy to answer in time is said and retried.
    const data = (await gql(`{
      done: tasks(filter: { rootsOnly: true, status: [COMPLETED, FAILED, CANCELLED] }) { totalCount }
      failed: tasks(filter: { rootsOnly: true, status: [FAILED, CANCELLED] }) { totalCount }
      counts: taskCounts { status count } }`).catch((err: Error) => {
      if (!/SERVICE_UNAVAILABLE|REQUEST_TIMEOUT/.test(err.message)) throw err;
      console.log(
        `  ${((now() - started) / 1000).toFixed(0)} s: progress not read: ${err.message}`,
      );
      return null;
    })) as {
      done: { totalCount: number };
      failed: { totalCount: number };
      counts: { status: string; count: number }[];
    } | null;
    if (!data) {
      await new Promise((r) => setTimeout(r, 1_000));
      continue;
    }
    const done = data.done.totalCount;
    const failed = data.failed.totalCount;
    // Steps count as progress too: with every workflow under way at once, the first one
    // may end only after minutes of steps.
    const completed = data.counts.find((c) => c.status === 'COMPLETED')?.count ?? 0;
    if (completed !== last) {
      console.log(
        `  ${((now() - started) / 1000).toFixed(0)} s: ${int(done)}/${int(TASKS)} submitted tasks finished ` +
          `(${int(failed)} failed); ${int(completed)} tasks and steps completed`,
      );
      last = completed;
      movedAt = now();
    }
    if (done >= TASKS) return { failed };
    if (now() - movedAt > stall) {
      throw new Error(`no task or step finished for ${stall / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
