/**
 * `npm run bench:agents`: an organisation under load. BENCH_AGENTS_TASKS tasks (default 200)
 * are submitted at once over HTTP (submitTask) to BENCH_AGENTS_CHIEFS Chiefs of Staff (10), and
 * planned and carried out by BENCH_AGENTS_OPERATORS Master Operators (1,000) on the offline
 * model, by BENCH_AGENTS_WORKERS schedulers in this process (2, each running
 * BENCH_AGENTS_CONCURRENCY steps at a time, 64), the same agent runtime `npm start` runs. Meanwhile a
 * simple query (one agent's id and status) is sent every 50 ms. Prints the completion time,
 * steps per second, failures, how many operators worked and how many steps ran at once at the
 * peak, and the simple query's p50 and p99 during the load. Not a test: it prints figures and
 * exits 0 whether or not the targets are met (no error, simple query p99 under 100 ms).
 * Runs in a tenant of its own (bench-agents-<uuid>), deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { generateApiKey } from '../src/auth/keys.js';
import { AgentRole } from '../src/domain/agent.js';
import { UNLIMITED_BUDGETS } from '../src/domain/budget.js';
import { schedulerFromConfig } from '../src/engine/start.js';
import { createLogger } from '../src/logger.js';
import type { startServer } from '../src/server.js';
import { now } from './probe.js';
import { deleteTenantInBatches, runIntervals } from './queries.js';
import { openBenchGraph, startBenchServer } from './server.js';
import { int, ms, percentile } from './stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TASKS = env('BENCH_AGENTS_TASKS', 200);
const CHIEFS = env('BENCH_AGENTS_CHIEFS', 10);
const OPERATORS = env('BENCH_AGENTS_OPERATORS', 1_000);
const WORKERS = env('BENCH_AGENTS_WORKERS', 2);
const CONCURRENCY = env('BENCH_AGENTS_CONCURRENCY', 64);
const CAPABILITIES = ['research', 'analysis', 'writing'];
const BRIEF =
  'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.';
const STALL_MS = 120_000;

async function main(): Promise<void> {
  const { config, graph } = await openBenchGraph();
  const logger = createLogger('warn');
  const server = await startBenchServer(graph, {
    logger,
    llm: config.llm,
    budgets: UNLIMITED_BUDGETS,
  });
  const tenantId = `bench-agents-${randomUUID()}`;
  const key = generateApiKey();
  await server.services.auth.ensureAdminKey(tenantId, key, 'bench');
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
    return body.data!;
  };
  console.log(
    `Agents benchmark in tenant ${tenantId}: ${int(TASKS)} submitted tasks, ${int(CHIEFS)} Chiefs of Staff, ` +
      `${int(OPERATORS)} Master Operators on the ${config.llm.provider} model; ${WORKERS} schedulers x ${CONCURRENCY} steps at a time`,
  );
  const schedulers = Array.from({ length: WORKERS }, (_, i) =>
    schedulerFromConfig(
      {
        ...config,
        budgets: UNLIMITED_BUDGETS,
        engine: { ...config.engine, concurrency: CONCURRENCY },
      },
      {
        uow: server.services.uow,
        logger,
        pubsub: server.pubsub,
        workerId: `bench-agents-${i + 1}`,
        tenantIds: [tenantId],
      },
    ),
  );
  try {
    const agentIds = await makeAgents(server.services, tenantId);
    for (const s of schedulers) s.start();

    const probe = probeLoop(() =>
      gql('query($id: ID!) { agent(id: $id) { id status } }', { id: agentIds[0] }),
    );
    const started = now();
    const submitted = await Promise.all(
      Array.from({ length: TASKS }, (_, i) =>
        gql('mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', {
          input: { title: `Brief ${i + 1}`, description: BRIEF },
        }),
      ),
    );
    console.log(`  ${int(submitted.length)} tasks submitted in ${ms(now() - started)}`);
    const finished = await waitForRoots(gql, started);
    const elapsed = now() - started;
    const { latencies, errors } = await probe.stop();
    const runs = await runIntervals(graph, tenantId);
    report({ elapsed, finished, latencies, errors, runs });
  } finally {
    await Promise.all(schedulers.map((s) => s.stop({ abort: true })));
    await server.close();
    const deleted = await deleteTenantInBatches(graph, tenantId);
    console.log(`\nDeleted the ${int(deleted)} nodes of tenant ${tenantId}.`);
    await graph.close();
  }
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
async function waitForRoots(gql: Gql, started: number): Promise<{ failed: number }> {
  let last = -1;
  let movedAt = now();
  for (;;) {
    const data = (await gql(`{
      done: tasks(filter: { rootsOnly: true, status: [COMPLETED, FAILED, CANCELLED] }) { totalCount }
      failed: tasks(filter: { rootsOnly: true, status: [FAILED, CANCELLED] }) { totalCount }
      counts: taskCounts { status count } }`)) as {
      done: { totalCount: number };
      failed: { totalCount: number };
      counts: { status: string; count: number }[];
    };
    const done = data.done.totalCount;
    const failed = data.failed.totalCount;
    if (done !== last) {
      const completed = data.counts.find((c) => c.status === 'COMPLETED')?.count ?? 0;
      console.log(
        `  ${((now() - started) / 1000).toFixed(0)} s: ${int(done)}/${int(TASKS)} submitted tasks finished ` +
          `(${int(failed)} failed); ${int(completed)} tasks and steps completed`,
      );
      last = done;
      movedAt = now();
    }
    if (done >= TASKS) return { failed };
    if (now() - movedAt > STALL_MS) {
      throw new Error(`no submitted task finished for ${STALL_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function report(r: {
  elapsed: number;
  finished: { failed: number };
  latencies: number[];
  errors: number;
  runs: { agentId: string; startedAt: number; endedAt: number | null }[];
}) {
  const operators = new Set(r.runs.map((x) => x.agentId)).size;
  const edges = r.runs.flatMap(
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
  console.log('\n== Summary (targets: no error; simple query p99 under 100 ms during the load) ==');
  console.log(
    `${int(TASKS)} submitted tasks finished in ${(r.elapsed / 1000).toFixed(1)} s, ${int(r.finished.failed)} failed; ` +
      `${int(r.runs.length)} runs, ${(r.runs.length / (r.elapsed / 1000)).toFixed(1)} runs/s; ` +
      `${int(operators)} agents ran something, at most ${int(peak)} runs at once`,
  );
  console.log(
    `simple query during the load: ${int(r.latencies.length)} sent, p50 ${ms(percentile(r.latencies, 50))}, ` +
      `p99 ${ms(percentile(r.latencies, 99))}, max ${ms(Math.max(...r.latencies))}, ${int(r.errors)} failed`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
