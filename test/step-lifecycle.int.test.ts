import { stopEngine } from '../src/engine/start.js';
import { describe, expect, it } from 'vitest';
import { StepError, type Executor } from '../src/engine/executor.js';
import { allFinished, byKey, startScheduler, sweepNow, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  eventually,
  inTenant,
  latch,
  sleep,
  startPlan,
  untilAborted,
  withScheduler,
} from './utils/engine-steps.js';
import { captureLogger, type LogEntry } from './utils/log-capture.js';
import type { TestServer } from './utils/server.js';

// Issue 10: how a step's life ends when its worker stops, when it is cancelled, when its
// parent has ended under it, and what of all that reaches the log.

const echo: Executor = async ({ task }) => ({ result: `${task.key} done` });

const runsOf = async (server: TestServer, taskId: string) =>
  server.graph.read((tx) =>
    tx.run<{ status: string; error: string | null }>({
      cypher: `MATCH (:Task {tenantId: $tenantId, id: $taskId})<-[:OF]-(r:Run)
               RETURN r.status AS status, r.error AS error ORDER BY r.startedAt`,
      params: { tenantId: server.tenantId, taskId },
    }),
  );

describe('a worker that stops', () => {
  it('releases its running step when it stops with abort: READY again, the attempt not counted, the workflow goes on', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Rolling deploy' },
        { key: 'slow', title: 'A step longer than the stop grace', parentKey: 'root' },
      ]);
      const started = latch();
      const slow: Executor = async ({ signal }) => {
        started.open();
        return untilAborted(signal);
      };
      const a = startScheduler(server, slow, { workerId: 'worker-a' });
      await started.opened;
      // What npm start and npm run worker do on SIGTERM, with 10 s and 30 s to finish.
      await stopEngine(a, 100, server.logger);

      const released = byKey(await waitForWorkflow(server, ids.root!, () => true));
      expect(released.slow).toMatchObject({ status: 'READY', attempts: 0 });
      expect(released.slow!.runs.map((r) => r.status)).toEqual(['RELEASED']);
      expect(released.root!.status).toBe('IN_PROGRESS');

      // Another worker picks it up at once (no backoff) and the workflow completes.
      await withScheduler(
        server,
        echo,
        async () => {
          const done = byKey(
            await waitForWorkflow(
              server,
              ids.root!,
              (t) => byKey(t).root?.status !== 'IN_PROGRESS',
            ),
          );
          expect(done.root!.status).toBe('COMPLETED');
          expect(done.slow).toMatchObject({ status: 'COMPLETED', attempts: 1, error: null });
          expect(done.slow!.runs.map((r) => [r.status, r.worker])).toEqual([
            ['RELEASED', 'worker-a'],
            ['SUCCEEDED', 'worker-b'],
          ]);
        },
        { workerId: 'worker-b' },
      );
    });
  });
});

describe('cancelling', () => {
  it('a cancelled task says it was cancelled, not "attempt 1 failed (will retry)"', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Cancelled between attempts' },
        { key: 'flaky', title: 'Flaky', parentKey: 'root' },
      ]);
      const executor: Executor = async () => {
        throw new StepError('the service is down', true);
      };
      await withScheduler(
        server,
        executor,
        async () => {
          await waitForWorkflow(server, ids.root!, (t) =>
            (byKey(t).flaky?.error ?? '').startsWith('attempt 1 failed (will retry)'),
          );
          const res = await server.gql(
            `mutation($id: ID!) { cancelTask(id: $id) { status error } }`,
            { id: ids.root! } as never,
          );
          expect(res.errors).toBeUndefined();
          expect(res.data).toEqual({
            cancelTask: { status: 'CANCELLED', error: 'cancelled by test admin' },
          });
          const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
          expect(k.flaky!.status).toBe('CANCELLED');
          expect(k.flaky!.error).toBe(`cancelled by test admin (with task ${ids.root} above it)`);
        },
        { backoff: { baseMs: 60_000, maxMs: 60_000 } }, // the retry waits while we cancel
      );
    });
  });

  it('cancels steps left waiting under a parent that has ended, at the next sweep', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Cancelled while planning' },
        { key: 'late', title: 'Planned after the cancel', parentKey: 'root' },
        { key: 'later', title: 'Also planned late', parentKey: 'root', dependsOnKeys: ['late'] },
      ]);
      const res = await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, {
        id: ids.root!,
      } as never);
      expect(res.errors).toBeUndefined();
      // What an attempt that wrote its plan after the cancel left behind (issue 10).
      await server.graph.write((tx) =>
        tx.run({
          cypher: `MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $ids
                   SET t.status = CASE t.id WHEN $late THEN 'READY' ELSE 'PENDING' END, t.error = null`,
          params: { tenantId: server.tenantId, ids: [ids.late, ids.later], late: ids.late },
        }),
      );
      await sweepNow(server);
      const k = byKey(await waitForWorkflow(server, ids.root!, () => true));
      for (const key of ['late', 'later']) {
        expect(k[key]).toMatchObject({
          status: 'CANCELLED',
          error: 'cancelled: its parent is CANCELLED',
        });
      }
    });
  });
});

describe('the log of a failing step', () => {
  it('logs each retry, failure and timeout with the task, run and agent ids, at warn or error', async () => {
    await inTenant(async (server) => {
      const { Worker } = await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Logged', failurePolicy: 'CONTINUE' },
        { key: 'flaky', title: 'Flaky', parentKey: 'root' },
        { key: 'broken', title: 'Broken', parentKey: 'root' },
        { key: 'stuck', title: 'Stuck', parentKey: 'root', maxAttempts: 1 },
      ]);
      const executor: Executor = async ({ task, run, signal }) => {
        if (task.key === 'flaky' && run.attempt === 1) throw new StepError('flaky once', true);
        if (task.key === 'broken') throw new StepError('the input is wrong', false);
        if (task.key === 'stuck') return untilAborted(signal);
        return { result: 'ok' };
      };
      const { logger, entries } = captureLogger('info');
      await withScheduler(
        server,
        executor,
        async () => {
          await waitForWorkflow(server, ids.root!, allFinished);
        },
        { logger, stepTimeoutMs: 1_500 },
      );
      const about = (key: string) => entries.filter((e) => e.taskId === ids[key]);
      const runIds = async (key: string) =>
        (
          await server.graph.read((tx) =>
            tx.run<{ id: string }>({
              cypher: `MATCH (:Task {id: $id})<-[:OF]-(r:Run) RETURN r.id AS id ORDER BY r.startedAt`,
              params: { id: ids[key] },
            }),
          )
        ).map((r) => r.id);
      const expectEntry = (e: LogEntry | undefined, level: number, msg: RegExp) => {
        expect(e, `a log entry matching ${msg}`).toBeDefined();
        expect(e!.level).toBe(level);
        expect(e!.msg).toMatch(msg);
        expect(e).toMatchObject({ tenantId: server.tenantId, agentId: Worker });
      };

      const retry = about('flaky').find((e) => /will retry/.test(e.msg));
      expectEntry(retry, 40, /^step failed; will retry: flaky once$/);
      expect(retry!.runId).toBe((await runIds('flaky'))[0]);

      const failed = about('broken').find((e) => /FAILED/.test(e.msg));
      expectEntry(failed, 50, /^step failed; the task FAILED: the input is wrong$/);
      expect(failed!.runId).toBe((await runIds('broken'))[0]);

      const timedOut = about('stuck').find((e) => /timed out/.test(e.msg));
      expectEntry(timedOut, 50, /^step timed out; the task FAILED: step timed out after 1500 ms$/);
      expect(timedOut!.runId).toBe((await runIds('stuck'))[0]);
      expect((await runsOf(server, ids.stuck!)).map((r) => r.status)).toEqual(['FAILED']);
    });
  });

  it('logs a step that lost its lease, and commits nothing of it', async () => {
    await inTenant(async (server) => {
      const { Worker } = await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Stolen' },
        { key: 'stolen', title: 'Its lease is taken', parentKey: 'root' },
      ]);
      const held = latch();
      const go = latch();
      const executor: Executor = async ({ task, writes }) => {
        writes.add('a note', async (tx) => {
          await tx.run({
            cypher: `MATCH (t:Task {id: $id}) SET t.note = 'written by the loser'`,
            params: { id: task.id },
          });
        });
        held.open();
        await go.opened;
        return { result: 'finished after losing the lease' };
      };
      const { logger, entries } = captureLogger('info');
      // A long lease: no heartbeat notices the theft before the executor finishes.
      await withScheduler(
        server,
        executor,
        async (scheduler) => {
          await held.opened;
          await server.graph.write((tx) =>
            tx.run({
              cypher: `MATCH (t:Task {id: $id}) SET t.leaseOwner = 'thief',
                         t.leaseExpiresAt = datetime() + duration('PT1H')`,
              params: { id: ids.stolen },
            }),
          );
          go.open();
          await eventually('the loser to wind down', () => scheduler.running === 0);
        },
        { logger, leaseMs: 60_000 },
      );
      const [row] = await server.graph.read((tx) =>
        tx.run<{ status: string; note: string | null; result: string | null }>({
          cypher: `MATCH (t:Task {id: $id}) RETURN t.status AS status, t.note AS note, t.result AS result`,
          params: { id: ids.stolen },
        }),
      );
      expect(row).toEqual({ status: 'IN_PROGRESS', note: null, result: null });
      expect((await runsOf(server, ids.stolen!)).map((r) => r.status)).toEqual(['ABANDONED']);
      const lost = entries.find((e) => e.taskId === ids.stolen && /lease/.test(e.msg));
      expect(lost).toMatchObject({ level: 40, agentId: Worker, dropped: ['a note'] });
      expect(lost!.msg).toBe(
        'step ended without its lease (lease lost); nothing it wrote is committed',
      );
    });
  });
});

describe('a lease', () => {
  it('is renewed at once when a slow claim spent much of it: the step is not run twice', async () => {
    await inTenant(async (server) => {
      const { Worker } = await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Slow claim' },
        { key: 'step', title: 'Claimed while its agent is locked', parentKey: 'root' },
      ]);
      // Another transaction holds the agent's lock for 4.5 s of the 6 s lease, so the claim's
      // commit (which creates the run's edge to the agent) waits for it: the step starts with
      // 1.5 s of its lease left, as a slow claim on a loaded machine once did (0.5 s of 3 s).
      const locked = latch();
      const holding = server.graph.write(async (tx) => {
        await tx.run({
          cypher: `MATCH (a:Agent {id: $id}) SET a.heldByTest = true REMOVE a.heldByTest`,
          params: { id: Worker },
        });
        locked.open();
        await sleep(4_500);
      });
      await locked.opened;
      const started = latch();
      const finish = latch();
      const executor: Executor = async ({ task }) => {
        started.open();
        await finish.opened;
        return { result: `${task.key} done` };
      };
      await withScheduler(
        server,
        executor,
        async () => {
          await started.opened;
          await holding;
          // Past what was left of the lease, before a heartbeat every third of it would come.
          await sleep(1_700);
          await sweepNow(server);
          finish.open();
          const done = byKey(await waitForWorkflow(server, ids.root!, allFinished));
          expect(done.step!.runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
          expect(done.step).toMatchObject({ status: 'COMPLETED', attempts: 1 });
        },
        { leaseMs: 6_000 },
      );
    });
  });
});
