import { randomUUID } from 'node:crypto';
import { claimReadyTasks } from '../graph/claim.repository.js';
import { endRun, startRun } from '../graph/run.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { LEASE_MS, PHASE_TIMEOUT_MS, WORKERS, progress, range, type Bench } from './context.js';
import { now, probedWrite } from './probe.js';
import { completedOnce, makeReady, touchTask } from './queries.js';
import { profileOf, type BaselineResult } from './report.js';
import { CpuMeter, int } from './stats.js';

/**
 * The baseline phase: the engine's claim, run-record and completion statements called straight
 * through Graph by WORKERS loops over n flat READY tasks, one step per transaction pair.
 */
export async function runBaseline(b: Bench, n: number): Promise<BaselineResult> {
  const created: string[] = [];
  for (let from = 0; from < n; from += 100) {
    const batch = range(Math.min(100, n - from)).map((j) => ({ title: `flat ${from + j}` }));
    created.push(
      ...(await b.services.tasks.createMany(b.tenantId, 'bench', batch)).map((t) => t.id),
    );
  }
  await makeReady(b.graph, b.tenantId, created);

  b.probe.reset();
  const stepMs: number[] = [];
  let claimed = 0;
  let emptyClaims = 0;
  const statements0 = b.graph.statementCount;
  const cpu = new CpuMeter(b.neo4jPid);
  const t0 = now();
  const deadline = t0 + PHASE_TIMEOUT_MS;
  const ticker = progress(
    `baseline, ${int(n)} steps`,
    n,
    () => stepMs.length,
    () => t0,
  );
  const loop = async (w: number) => {
    const workerId = `bench-baseline-${w + 1}`;
    let next = w;
    while (claimed < n) {
      if (now() > deadline) throw new Error(`the ${n}-step baseline did not finish`);
      const start = now();
      const run = await probedWrite(b.probe, b.graph, async (tx) => {
        const [c] = await claimReadyTasks(tx, workerId, 1, LEASE_MS, [b.tenantId]);
        if (!c) return null;
        const id = randomUUID();
        const agentId = b.agentIds[next++ % b.agentIds.length]!;
        await startRun(tx, { id, taskId: c.task.id, agentId, workerId, score: 1, reason: '' });
        return { id, taskId: c.task.id };
      });
      if (!run) {
        emptyClaims++; // another loop held the head of the queue: its claim won
        continue;
      }
      claimed++;
      const ended = await probedWrite(b.probe, b.graph, (tx) =>
        endRun(tx, {
          taskId: run.taskId,
          runId: run.id,
          workerId,
          latencyMs: 0,
          status: TaskStatus.COMPLETED,
          runStatus: 'SUCCEEDED',
          result: 'ok',
        }),
      );
      if (!ended) throw new Error(`baseline: endRun did not complete task ${run.taskId}`);
      stepMs.push(now() - start);
    }
  };
  try {
    await Promise.all(range(WORKERS).map(loop));
  } finally {
    clearInterval(ticker);
  }
  const seconds = (now() - t0) / 1000;
  return {
    n,
    seconds,
    stepMs,
    emptyClaims,
    statements: b.graph.statementCount - statements0,
    cpu: cpu.read(),
    profile: profileOf(b.probe),
    completed: await completedOnce(b.graph, b.tenantId, created),
  };
}

/**
 * What the database alone allows: WORKERS loops of one-statement write transactions, each on a
 * task of its own (no lock contention). Every engine step needs at least one commit.
 */
export async function commitFloor(b: Bench, perLoop = 250) {
  const tasks = await b.services.tasks.createMany(
    b.tenantId,
    'bench',
    range(WORKERS).map((i) => ({ title: `commit floor ${i}` })),
  );
  const times: number[] = [];
  const t0 = now();
  await Promise.all(
    tasks.map(async (t) => {
      for (let i = 0; i < perLoop; i++) {
        const start = now();
        await touchTask(b.graph, b.tenantId, t.id);
        times.push(now() - start);
      }
    }),
  );
  return { perSecond: times.length / ((now() - t0) / 1000), times };
}
