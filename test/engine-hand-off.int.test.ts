import { describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { statementName } from '../graph/statement-name.js';
import { echoExecutor, type Executor } from '../src/engine/executor.js';
import { allFinished, byKey, startScheduler, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  createPlan,
  eventually,
  inTenant,
  latch,
  startPlan,
  startWorkflow,
  untilAborted,
  withScheduler,
} from './utils/engine-steps.js';
import { recordTransactions } from './utils/statements.js';

/**
 * Hand-off (src/engine/hand-off.ts, issue 15): a step's end that makes a dependant READY claims
 * the queue's head in the same transaction, for the slot it frees: in a chain, the dependant.
 * A chain then costs one commit per step instead of two; with older work waiting, that work
 * starts, and the dependant is queued like any step.
 */
describe('hand-off of a dependant to the slot its dependency frees', () => {
  it('starts a chain’s next step in the transaction that ends the step before it', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const txs = recordTransactions(server);
      let ids: Record<string, string>;
      try {
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'A', parentKey: 'root' },
          { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
          { key: 'c', title: 'C', parentKey: 'root', dependsOnKeys: ['b'] },
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          const tasks = await waitForWorkflow(server, ids.root!, allFinished);
          expect(tasks.map((t) => t.status)).toEqual(Array(4).fill('COMPLETED'));
        });
      } finally {
        server.graph.onStatement = undefined;
      }
      const all = [...txs.values()];
      const endOf = (id: string) => all.find((t) => t.ended.includes(id))!;
      expect(endOf(ids.a!).started).toEqual([ids.b]);
      expect(endOf(ids.b!).started).toEqual([ids.c]);
      expect(endOf(ids.c!).started).toEqual([]);
      // b and c were never claimed by a transaction of their own.
      const claimsOf = (id: string) => all.filter((t) => t.started.includes(id));
      expect(claimsOf(ids.b!)).toHaveLength(1);
      expect(claimsOf(ids.c!)).toHaveLength(1);
    });
  });

  it('starts older work in the freed slot, and queues the dependant like any step', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const txs = recordTransactions(server);
      const other = await createPlan(server, [
        { key: 'root', title: 'Other root' },
        { key: 'y', title: 'Y', parentKey: 'root' },
      ]);
      // While `a` runs (the scheduler's only slot), the other workflow's step becomes READY.
      const executor: Executor = async (input) => {
        if (input.task.title === 'A') {
          await startWorkflow(server, other.root!);
          await waitForWorkflow(server, other.root!, (t) => byKey(t).y?.status === 'READY');
        }
        return echoExecutor()(input);
      };
      let ids: Record<string, string>;
      try {
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'A', parentKey: 'root' },
          { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
        ]);
        await withScheduler(
          server,
          executor,
          async () => {
            const tasks = await waitForWorkflow(server, ids.root!, allFinished);
            expect(tasks.map((t) => t.status)).toEqual(Array(3).fill('COMPLETED'));
            const others = await waitForWorkflow(server, other.root!, allFinished);
            expect(byKey(others).y?.status).toBe('COMPLETED');
          },
          { concurrency: 1 },
        );
      } finally {
        server.graph.onStatement = undefined;
      }
      const all = [...txs.values()];
      const endOfA = all.find((t) => t.ended.includes(ids.a!))!;
      expect(endOfA.names).toContain('promotion.repository.changeStatusBatch');
      // The queue's head, as a claim would take it: the other workflow's step, READY first.
      expect(endOfA.started).toEqual([other.y]);
      const claimOfB = all.filter((t) => t.started.includes(ids.b!));
      expect(claimOfB).toHaveLength(1);
      expect(claimOfB[0]).not.toBe(endOfA);
    });
  });

  it('ends grouped in one transaction start the waiting steps in the slots they free, in each scheduler', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const txs = recordTransactions(server);
      const keys = 'abcdefghijklmnop'.split('');
      // Two schedulers of one process, four slots each. The first eight steps claimed hold
      // their slots until all eight run, then end together; the other eight wait READY.
      const release = latch();
      let holding = 0;
      const ranBy = new Map<string, string>();
      const executorOf =
        (worker: string): Executor =>
        async (input) => {
          ranBy.set(input.task.id, worker);
          if (holding < 8) {
            holding++;
            await release.opened;
          }
          return echoExecutor()(input);
        };
      const options = { concurrency: 4, perAgentLimit: 16 };
      const one = startScheduler(server, executorOf('one'), { ...options, workerId: 'one' });
      const two = startScheduler(server, executorOf('two'), { ...options, workerId: 'two' });
      try {
        const ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          ...keys.map((key) => ({ key, title: key, parentKey: 'root' })),
        ]);
        await eventually('eight running', () => holding === 8);
        release.open();
        const tasks = await waitForWorkflow(server, ids.root!, allFinished);
        expect(tasks.map((t) => t.status)).toEqual(Array(17).fill('COMPLETED'));
        for (const t of tasks.filter((t) => t.key !== 'root')) {
          expect(
            t.runs.map((r) => r.status),
            t.key!,
          ).toEqual(['SUCCEEDED']);
        }
      } finally {
        server.graph.onStatement = undefined;
        await Promise.all([one.stop({ abort: true }), two.stop({ abort: true })]);
      }
      // A group of ends claimed once for the slots it freed (none made a step READY: the steps
      // waited already), started no more than it freed, and each step ran in the scheduler
      // whose lease it was claimed under.
      const groups = [...txs.values()].filter((t) => t.ended.length > 1);
      const handing = groups.filter((t) => t.started.length > 0);
      expect(handing.length).toBeGreaterThan(0);
      for (const t of handing) {
        expect(t.started.length).toBeLessThanOrEqual(t.ended.length);
        expect(t.names.filter((n) => n === 'claim.repository.claimReadyTasks')).toHaveLength(1);
      }
      const owners = handing.flatMap((t) => t.owners);
      expect(new Set(owners.map((o) => o.workerId))).toEqual(new Set(['one', 'two']));
      for (const o of owners) expect(ranBy.get(o.taskId)).toBe(o.workerId);
    });
  });

  it('a scheduler stopping while an end hands off waits for the step it was handed, and gives it back', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const ids = await createPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
      ]);
      let bRan = false;
      // `b` runs until its worker stops it.
      const executor: Executor = async (input) => {
        if (input.task.title !== 'B') return echoExecutor()(input);
        bRan = true;
        return untilAborted(input.signal);
      };
      await withScheduler(server, executor, async (scheduler) => {
        // The stop comes while a's end (which hands `b` to its slot) is being written.
        let stopping: Promise<void> | undefined;
        const ending = new Set<Tx>();
        server.graph.onStatement = (q, tx) => {
          const name = statementName(q.cypher);
          if (name === 'run.repository.endRunBatch') ending.add(tx);
          if (name === 'claim.repository.claimReadyTasks' && ending.has(tx)) {
            stopping ??= scheduler.stop({ abort: true });
          }
        };
        try {
          await startWorkflow(server, ids.root!);
          await eventually('the stop during the hand-off', () => stopping !== undefined);
          await stopping;
        } finally {
          server.graph.onStatement = undefined;
        }
        // Nothing of the stopped scheduler runs on: `b` was aborted and released for another.
        expect(scheduler.running).toBe(0);
        expect(bRan).toBe(true);
        const tasks = await waitForWorkflow(
          server,
          ids.root!,
          (t) => byKey(t).b?.status === 'READY',
        );
        expect(byKey(tasks).a?.status).toBe('COMPLETED');
        expect(byKey(tasks).b?.runs.map((r) => r.status)).toEqual(['RELEASED']);
      });
    });
  });
});
