import { Writable } from 'node:stream';
import type { Executor } from '../src/engine/executor.js';
import { Scheduler, type SchedulerOptions } from '../src/engine/scheduler.js';
import { createLogger } from '../src/logger.js';
import {
  CONCURRENCY,
  LAYER_WIDTH,
  LEASE_MS,
  PER_AGENT_LIMIT,
  POLL_MS,
  QUEUE_POLL_MS,
  WORKERS,
  progress,
  range,
  sleep,
  withTimeout,
  type Bench,
} from './context.js';
import { now } from './probe.js';
import { stepFigures, workflowOutcome } from './queries.js';
import { profileOf } from './report.js';
import { CpuMeter, int } from './stats.js';

/** Dependencies by step index: layers of `width`; a step depends on two of the layer before. */
export function layeredDag(n: number, width: number): number[][] {
  return range(n).map((i) => {
    const layer = Math.floor(i / width);
    if (layer === 0) return [];
    const prev = (layer - 1) * width;
    const pos = i % width;
    return [...new Set([prev + pos, prev + ((pos + 1) % width)])];
  });
}

/** Root plus N steps as one workflow, created a layer per batch (the API takes 100 at most). */
export async function createWorkflow(b: Bench, deps: number[][], width: number) {
  const [root] = await b.services.tasks.createMany(b.tenantId, 'bench', [
    { title: `bench workflow of ${deps.length} steps` },
  ]);
  const ids: string[] = [];
  for (let from = 0; from < deps.length; from += width) {
    const layer = deps.slice(from, from + width).map((d, j) => ({
      key: `s${from + j}`,
      title: `step ${from + j}`,
      parentId: root!.id,
      dependsOn: d.map((i) => ids[i]!),
    }));
    ids.push(...(await b.services.tasks.createMany(b.tenantId, 'bench', layer)).map((t) => t.id));
  }
  return { rootId: root!.id, ids };
}

/**
 * The engine phase: a DAG of n steps in layers of `width` run by `workers` schedulers with a
 * no-op executor. Width 1 is a chain: one step in flight at a time, so its overhead is the
 * engine's own, without queueing.
 */
export async function runEngine(
  b: Bench,
  n: number,
  workers = WORKERS,
  width = LAYER_WIDTH,
  options: Pick<SchedulerOptions, 'pollMs' | 'handOff'> = {},
) {
  const deps = layeredDag(n, width);
  const { rootId, ids } = await createWorkflow(b, deps, width);
  const called = new Map<string, number>();
  const returned = new Map<string, number>();
  const executor: Executor = async ({ task }) => {
    called.set(task.id, now());
    const result = { result: 'ok' };
    returned.set(task.id, now());
    return result;
  };
  b.probe.reset();
  const dispatches = b.dispatch ? await Promise.all(range(workers).map(() => b.dispatch!())) : [];
  b.schedulers = range(workers).map(
    (i) =>
      new Scheduler({
        dispatch: dispatches[i],
        queuePollMs: QUEUE_POLL_MS,
        uow: b.uow,
        executor,
        logger: createLogger('warn', warningSink(b.warnings)),
        pubsub: b.pubsub,
        workerId: `bench-engine-${i + 1}`,
        tenantIds: [b.tenantId],
        concurrency: CONCURRENCY,
        perAgentLimit: PER_AGENT_LIMIT,
        pollMs: POLL_MS,
        leaseMs: LEASE_MS,
        ...options,
      }),
  );
  for (const s of b.schedulers) s.start();
  await sleep(500); // past the first tick's lease sweep: the schedulers are polling

  const steps = new Set(ids);
  let done = 0;
  let lastCommit = 0;
  const finished = new Promise<void>((resolve) => {
    b.probe.onCommitted = (id) => {
      if (!steps.has(id)) return;
      lastCommit = Math.max(lastCommit, b.probe.committed.get(id)!);
      if (++done === n) resolve();
    };
  });
  const statements0 = b.graph.statementCount;
  const cpu = new CpuMeter(b.neo4jPid);
  let t0 = now();
  await b.services.workflows.start(b.tenantId, rootId);
  t0 = now();
  const ticker = progress(
    `engine, ${int(n)} steps`,
    n,
    () => done,
    () => t0,
  );
  try {
    await withTimeout(finished, `the ${n}-step workflow`);
  } finally {
    clearInterval(ticker);
  }
  const statements = b.graph.statementCount - statements0;
  const cpuLine = cpu.read();
  await Promise.all(b.schedulers.map((s) => s.stop()));
  b.schedulers = [];
  await Promise.all(dispatches.map((d) => d.close()));

  const before: number[] = [];
  const after: number[] = [];
  ids.forEach((id, i) => {
    const claimable = deps[i]!.length
      ? Math.max(...deps[i]!.map((d) => b.probe.committed.get(ids[d]!)!))
      : t0;
    before.push(called.get(id)! - claimable);
    after.push(b.probe.committed.get(id)! - returned.get(id)!);
  });
  const outcome = await workflowOutcome(b.graph, b.tenantId, rootId);
  return {
    n,
    workers,
    seconds: (lastCommit - t0) / 1000,
    before,
    after,
    overhead: before.map((v, i) => v + after[i]!),
    statements,
    cpu: cpuLine,
    profile: profileOf(b.probe),
    executorCalls: called.size,
    check: {
      rootStatus: outcome.rootStatus,
      ...stepFigures(outcome.steps),
      layers: Math.ceil(n / width),
    },
  };
}

export type EngineResult = Awaited<ReturnType<typeof runEngine>>;

/** A pino destination that keeps the engine's warnings (failed ticks) for the report. */
function warningSink(into: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      into.push(chunk.toString().trim());
      callback();
    },
  });
}
