import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoExecutor } from '../src/engine/executor.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { startScheduler } from './utils/engine.js';
import { type AppProcess } from './utils/process.js';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  startWorkerProcess,
  stopProcess,
  mulberry32,
  poll,
  cypher,
  createTasks,
  createAgents,
  startWorkflow,
  waitForSteps,
} from './utils/engine-durability.js';

/**
 * Durability of the orchestration engine: many workers in two processes, and a worker killed
 * mid-step.
 */

const run = randomUUID().slice(0, 8);

describe('a 200-step random DAG on four workers in two processes', () => {
  const STEPS = 200;
  let server: TestServer;
  const locals: Scheduler[] = [];
  const procs: AppProcess[] = [];
  const localIds = [`durability-local-a-${run}`, `durability-local-b-${run}`];
  const procIds = [`durability-proc-a-${run}`, `durability-proc-b-${run}`];

  beforeAll(async () => {
    server = await startTestServer();
    // ENGINE_AGENT_LIMIT is 4 per agent: 6 agents take 24 steps at once, more than 4 workers run.
    await createAgents(server, 6);
    // Two workers in separate processes (two each), started before the workflow so they take
    // part; the second at the normal CPU priority.
    procs.push(
      ...(await Promise.all(
        procIds.map((id, i) =>
          startWorkerProcess(id, server.tenantId, {
            ENGINE_CONCURRENCY: '2',
            ...(i === 1 ? { WORKER_NICE: '0' } : {}),
          }),
        ),
      )),
    );
  });

  afterAll(async () => {
    await Promise.allSettled(locals.map((s) => s.stop({ abort: true })));
    await Promise.allSettled(procs.map((p) => stopProcess(p)));
    await server?.stop();
  });

  it('a worker process gives the CPU to the API and Neo4j first (nice 10; WORKER_NICE=0 not)', () => {
    // Every thread's own priority (Linux keeps one per thread): field 19 of its stat line.
    const niceOf = (pid: number) =>
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const [lowered, normal] = procs.map((p) => niceOf(p.child.pid!));
    expect(lowered!.length).toBeGreaterThan(1);
    expect(new Set(lowered)).toEqual(new Set([10]));
    expect(new Set(normal)).toEqual(new Set([0]));
    expect(procs[0]!.output()).toMatch(/running \(2 steps at a time, CPU priority nice 10\)/);
  });

  it('runs every step exactly once, after its dependencies, spread over the workers', async () => {
    // Each step depends on 0 to 3 distinct earlier steps: acyclic by construction.
    const random = mulberry32(20_240_611);
    const deps: number[][] = [];
    for (let i = 0; i < STEPS; i++) {
      const want = Math.min(i, Math.floor(random() * 4));
      const chosen = new Set<number>();
      while (chosen.size < want) chosen.add(Math.floor(random() * i));
      deps.push([...chosen].sort((a, b) => a - b));
    }
    const edges = deps.reduce((n, d) => n + d.length, 0);

    // createTasks takes at most 100 tasks at once: the root, then the steps in two batches that
    // name steps of an earlier batch by id and steps of their own batch by key.
    const [root] = await createTasks(server, [{ key: 'root', title: 'Random DAG' }]);
    const ids = new Map<number, string>();
    for (let from = 0; from < STEPS; from += 100) {
      const inBatch = (d: number) => d >= from;
      const created = await createTasks(
        server,
        Array.from({ length: Math.min(100, STEPS - from) }, (_, j) => {
          const i = from + j;
          return {
            key: `s${i}`,
            title: `Step ${i}`,
            parentId: root!.id,
            dependsOn: deps[i]!.filter((d) => !inBatch(d)).map((d) => ids.get(d)!),
            dependsOnKeys: deps[i]!.filter(inBatch).map((d) => `s${d}`),
          };
        }),
      );
      for (const t of created) ids.set(Number(t.key.slice(1)), t.id);
    }
    expect(ids.size).toBe(STEPS);
    const [stored] = await cypher<{ n: number }>(
      server,
      `MATCH (:Task {tenantId: $tenantId})-[e:DEPENDS_ON]->(:Task {tenantId: $tenantId}) RETURN count(e) AS n`,
    );
    expect(stored!.n).toBe(edges);

    const started = performance.now();
    await startWorkflow(server, root!.id);
    for (const workerId of localIds) {
      locals.push(startScheduler(server, echoExecutor(5), { workerId, leaseMs: 5_000 }));
    }
    const state = await waitForSteps(server, root!.id, 30_000);
    const elapsed = Math.round(performance.now() - started);

    expect(state.steps).toHaveLength(STEPS);
    expect(state.steps.every((s) => s === 'COMPLETED')).toBe(true);
    expect(state.root).toBe('COMPLETED');

    // Exactly one run per step, and it succeeded: nobody ran a step twice.
    const runs = await cypher<{ key: string; runs: string[] }>(
      server,
      `MATCH (s:Task)-[:SUBTASK_OF]->(:Task {tenantId: $tenantId, id: $rootId})
       OPTIONAL MATCH (r:Run)-[:OF]->(s)
       RETURN s.key AS key, collect(r.status) AS runs`,
      { rootId: root!.id },
    );
    expect(runs).toHaveLength(STEPS);
    expect(runs.filter((r) => r.runs.length !== 1 || r.runs[0] !== 'SUCCEEDED')).toEqual([]);

    // Every dependency ended before its dependant started.
    const [order] = await cypher<{ pairs: number; late: string[] }>(
      server,
      `MATCH (s:Task {tenantId: $tenantId})-[:DEPENDS_ON]->(d:Task)
       MATCH (rs:Run)-[:OF]->(s), (rd:Run)-[:OF]->(d)
       RETURN count(*) AS pairs,
              [x IN collect(CASE WHEN rd.endedAt IS NULL OR rd.endedAt > rs.startedAt
                                 THEN d.key + ' -> ' + s.key END) WHERE x IS NOT NULL] AS late`,
    );
    expect(order!.pairs).toBe(edges);
    expect(order!.late).toEqual([]);

    // Spread over the workers: both processes' kind and the in-process schedulers took part.
    const byWorker = await cypher<{ worker: string; n: number }>(
      server,
      `MATCH (r:Run {tenantId: $tenantId}) RETURN r.worker AS worker, count(*) AS n ORDER BY worker`,
    );
    const counts = Object.fromEntries(byWorker.map((w) => [w.worker, w.n]));
    console.log(
      `200-step DAG (${edges} dependencies) finished in ${elapsed} ms; runs by worker: ${JSON.stringify(counts)}`,
    );
    expect(byWorker.length).toBeGreaterThan(1);
    expect(procIds.some((id) => (counts[id] ?? 0) > 0)).toBe(true);
    expect(localIds.some((id) => (counts[id] ?? 0) > 0)).toBe(true);
    // The backstop: under two copies of the suite on 2 cores the DAG ran at 1-2 steps a second.
  }, 400_000);
});

describe('a worker process killed while its steps run', () => {
  let server: TestServer;
  let proc: AppProcess | undefined;
  let local: Scheduler | undefined;
  const killedId = `durability-killed-${run}`;

  beforeAll(async () => {
    server = await startTestServer();
    await createAgents(server, 4);
    proc = await startWorkerProcess(killedId, server.tenantId, {
      ECHO_DELAY_MS: '1500',
      ENGINE_LEASE_MS: '1000',
      ENGINE_CONCURRENCY: '4',
    });
  });

  afterAll(async () => {
    await local?.stop({ abort: true });
    await stopProcess(proc, 'SIGKILL');
    await server?.stop();
  });

  it('its steps are taken over after the lease expires and each succeeds once', async () => {
    const created = await createTasks(server, [
      { key: 'root', title: 'Survive a crash' },
      ...['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((key) => ({
        key,
        title: `Independent ${key}`,
        parentKey: 'root',
      })),
      { key: 'b1', title: 'b1', parentKey: 'root', dependsOnKeys: ['a1', 'a2'] },
      { key: 'b2', title: 'b2', parentKey: 'root', dependsOnKeys: ['a3'] },
      { key: 'b3', title: 'b3', parentKey: 'root', dependsOnKeys: ['a4', 'a5'] },
      { key: 'b4', title: 'b4', parentKey: 'root', dependsOnKeys: ['a6'] },
      { key: 'c1', title: 'c1', parentKey: 'root', dependsOnKeys: ['b1', 'b2'] },
      { key: 'c2', title: 'c2', parentKey: 'root', dependsOnKeys: ['b3', 'b4'] },
    ]);
    const root = created.find((t) => t.key === 'root');
    const steps = created.filter((t) => t.key !== 'root');
    expect(steps).toHaveLength(12);
    await startWorkflow(server, root!.id);

    const runningOfKilled = `
      MATCH (r:Run {tenantId: $tenantId, worker: $worker, status: 'RUNNING'})-[:OF]->(t:Task)
      RETURN r.id AS run, t.key AS key`;
    await poll(
      () => cypher<{ run: string; key: string }>(server, runningOfKilled, { worker: killedId }),
      (rows) => rows.length > 0,
      20_000,
      'the worker process did not start a step',
    );
    proc!.child.kill('SIGKILL');
    await proc!.exited;
    // Nobody else runs now: what it held is still RUNNING, with a lease that will expire.
    const held = await cypher<{ run: string; key: string }>(server, runningOfKilled, {
      worker: killedId,
    });
    expect(held.length).toBeGreaterThan(0);

    // The default lease: a 1 s one could expire under load while the rescuer runs a step.
    local = startScheduler(server, echoExecutor(), { workerId: `durability-rescuer-${run}` });
    const state = await waitForSteps(server, root!.id, 30_000);
    expect(state.steps).toEqual(Array(12).fill('COMPLETED'));
    expect(state.root).toBe('COMPLETED');

    const runs = await cypher<{
      key: string;
      runs: { id: string; status: string; worker: string; attempt: number; error: string | null }[];
    }>(
      server,
      `MATCH (s:Task)-[:SUBTASK_OF]->(:Task {tenantId: $tenantId, id: $rootId})
       OPTIONAL MATCH (r:Run)-[:OF]->(s)
       WITH s, r ORDER BY r.startedAt
       RETURN s.key AS key, collect({id: r.id, status: r.status, worker: r.worker,
                                     attempt: r.attempt, error: r.error}) AS runs`,
      { rootId: root!.id },
    );
    const byKey = Object.fromEntries(runs.map((r) => [r.key, r.runs]));
    // No step succeeded twice, none is left running.
    for (const r of runs) {
      expect(
        r.runs.filter((x) => x.status === 'SUCCEEDED'),
        r.key,
      ).toHaveLength(1);
      expect(
        r.runs.filter((x) => x.status === 'RUNNING'),
        r.key,
      ).toEqual([]);
    }
    // What the killed worker held was abandoned when its lease expired, then run again and
    // completed by the rescuing scheduler. Under load the killed worker may have lost an
    // earlier attempt of the same step to its own 1 s lease: those come first, abandoned too.
    for (const h of held) {
      const all = byKey[h.key]!;
      const at = all.findIndex((x) => x.id === h.run);
      const heldRun = all[at]!;
      expect(heldRun).toMatchObject({ status: 'ABANDONED', worker: killedId });
      expect(heldRun.error).toMatch(/^lease expired: worker durability-killed-/);
      for (const earlier of all.slice(0, at)) {
        expect(earlier).toMatchObject({ status: 'ABANDONED', worker: killedId });
      }
      const later = all.slice(at + 1);
      expect(later).toHaveLength(1);
      expect(later[0]).toMatchObject({
        status: 'SUCCEEDED',
        worker: local.workerId,
        attempt: heldRun.attempt + 1,
      });
    }
    // The killed worker finished nothing after it died.
    const killedRuns = runs.flatMap((r) => r.runs).filter((x) => x.worker === killedId);
    expect(killedRuns.every((x) => x.status === 'ABANDONED' || x.status === 'SUCCEEDED')).toBe(
      true,
    );
    console.log(
      `killed worker held ${held.map((h) => h.key).join(', ')}; all ${steps.length} steps completed`,
    );
  }, 120_000);
});
