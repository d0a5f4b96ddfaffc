import { describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { statementName } from '../graph/statement-name.js';
import type { Executor } from '../src/engine/executor.js';
import { GroupCommit, type Writer } from '../src/engine/group-commit.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  eventually,
  inTenant,
  latch,
  startPlan,
  withScheduler,
} from './utils/engine-steps.js';

/**
 * Issue 15: each step's end was a transaction of its own, and under load the ends queued for
 * their round trips and commits one by one. Ends that arrive while a group commits now share
 * the next transaction (src/engine/group-commit.ts), each still its own step's.
 */
describe('group commit of steps’ ends', () => {
  it('ends that arrive together share a transaction, and every step ends once', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        ...keys.map((key) => ({ key, title: key, parentKey: 'root' })),
        { key: 'last', title: 'Last', parentKey: 'root', dependsOnKeys: keys },
      ]);
      // All eight run at once and return together.
      const release = latch();
      let started = 0;
      const executor: Executor = async ({ task }) => {
        if (task.title === 'Last') return { result: 'last' };
        started++;
        await release.opened;
        return { result: `done ${task.title}` };
      };
      const ends = new Map<Tx, number>();
      server.graph.onStatement = (q, tx) => {
        if (statementName(q.cypher) === 'run.repository.endRun')
          ends.set(tx, (ends.get(tx) ?? 0) + 1);
      };
      try {
        await withScheduler(
          server,
          executor,
          async () => {
            await eventually('all eight running', () => started === keys.length);
            release.open();
            const tasks = await waitForWorkflow(server, ids.root!, allFinished);
            expect(tasks.map((t) => t.status)).toEqual(Array(10).fill('COMPLETED'));
            const results = tasks.filter((t) => keys.includes(t.key!)).map((t) => t.result);
            expect(results.sort()).toEqual(keys.map((k) => `done ${k}`));
            // The dependant that all eight unblocked was promoted and ran exactly once.
            const last = tasks.find((t) => t.key === 'last')!;
            expect(last.runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
          },
          { concurrency: keys.length, perAgentLimit: keys.length },
        );
      } finally {
        server.graph.onStatement = undefined;
      }
      // The first end commits alone; the seven that came while it did, together.
      const steps = [...ends.values()].reduce((a, b) => a + b, 0);
      expect(steps).toBe(keys.length + 1); // the eight and `last` (the root settles)
      expect(Math.max(...ends.values())).toBeGreaterThan(1);
      expect(ends.size).toBeLessThan(steps);
    });
  });

  it('a piece that fails in a group fails alone; the others commit', async () => {
    await inTenant(async (server) => {
      const { uow } = server.services;
      const group = new GroupCommit();
      const write: Writer = (work) => uow.run(work);
      let transactions = 0;
      const seen = new Set<Tx>();
      server.graph.onStatement = (_q, tx) => void (seen.has(tx) || (seen.add(tx), transactions++));
      const gate = latch();
      const value = (n: number) => async (tx: Tx) => {
        const [row] = await tx.run<{ n: number }>({ cypher: 'RETURN $n AS n', params: { n } });
        return Number(row!.n);
      };
      try {
        // The first piece holds its transaction open until the other three are waiting.
        const first = group.run(async (tx) => {
          await gate.opened;
          return value(1)(tx);
        }, write);
        const two = group.run(value(2), write);
        const bad = group.run(async (tx) => {
          await value(3)(tx);
          throw new Error('step three’s own error');
        }, write);
        const four = group.run(value(4), write);
        gate.open();
        expect(await first).toBe(1);
        await expect(bad).rejects.toThrow('step three’s own error');
        expect([await two, await four]).toEqual([2, 4]);
      } finally {
        server.graph.onStatement = undefined;
      }
      // The first alone, the group of three (rolled back), then each of the three again alone.
      expect(transactions).toBe(5);
    });
  });
});
