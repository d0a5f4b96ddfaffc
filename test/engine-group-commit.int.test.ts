import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { statementName } from '../graph/statement-name.js';
import type { Executor } from '../src/engine/executor.js';
import { GroupCommit, type Writer } from '../src/engine/group-commit.js';
import { captureSpans } from './utils/span-capture.js';
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
// Spans of this process, recorded in memory by the SDK (setup.ts) started for this file.
const exporter = captureSpans();

/** A piece that sends one statement returning `n`. */
const value = (n: number) => async (tx: Tx) => {
  const [row] = await tx.run<{ n: number }>({ cypher: 'RETURN $n AS n', params: { n } });
  return Number(row!.n);
};

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
      // Per transaction: the runs it ended, and the statements it sent by name.
      const ends = new Map<Tx, number>();
      const sent = new Map<Tx, string[]>();
      server.graph.onStatement = (q, tx) => {
        const name = statementName(q.cypher);
        sent.set(tx, [...(sent.get(tx) ?? []), name]);
        if (name === 'run.repository.endRunBatch') {
          const runs = (q.params?.runs ?? []) as unknown[];
          ends.set(tx, (ends.get(tx) ?? 0) + runs.length);
        }
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
      // However many ends a group holds, it sends one statement of each kind for them all: Neo4j
      // runs a transaction's statements one at a time (graph/batch.ts).
      const groups = [...ends].filter(([, n]) => n > 1).map(([tx]) => sent.get(tx)!);
      for (const names of groups) {
        const count = (name: string) => names.filter((n) => n === name).length;
        expect(count('run.repository.endRunBatch')).toBe(1);
        // Their results' episodes, and their runs' evaluations (their calls cost what was
        // booked: nothing), are made by the statement that ends their runs.
        expect(count('evaluation.repository.writeEvaluationBatch')).toBe(0);
        expect(count('memory/episode.repository.mergeEpisodeBatch')).toBe(0);
        expect(count('promotion.repository.promotableDependantBatch')).toBe(1);
        // `last`, which all eight unblock, is promoted once, then its event and the ends' ones.
        expect(count('promotion.repository.changeStatusBatch')).toBeLessThanOrEqual(1);
        expect(count('task-event.repository.taskEventBatch')).toBeLessThanOrEqual(2);
      }
      // Each end of a group made its own run's episode, with its own result.
      const episodes = await server.graph.read((tx) =>
        tx.run<{ content: string }>({
          cypher: `MATCH (e:Episode {tenantId: $tenantId})-[:FROM_RUN]->(:Run)-[:OF]->(t:Task)
                   WHERE e.content = t.result RETURN e.content AS content ORDER BY content`,
          params: { tenantId: server.tenantId },
        }),
      );
      expect(episodes.map((e) => e.content)).toEqual([...keys.map((k) => `done ${k}`), 'last']);
      // And each its own run's evaluation.
      const judged = await server.graph.read((tx) =>
        tx.run<{ runs: number; judged: number }>({
          cypher: `MATCH (r:Run)-[:OF]->(:Task {tenantId: $tenantId})
                   RETURN count(r) AS runs,
                          sum(count { (r)<-[:EVALUATES]-(:Evaluation {source: 'OBJECTIVE'}) }) AS judged`,
          params: { tenantId: server.tenantId },
        }),
      );
      expect(judged).toEqual([{ runs: keys.length + 1, judged: keys.length + 1 }]);
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

  it('the next group sends its statements while the one before commits', async () => {
    await inTenant(async (server) => {
      const { uow } = server.services;
      const group = new GroupCommit();
      const write: Writer = (work) => uow.run(work);
      // A writer whose commit (all it does once the work has returned) waits for the gate.
      const committed = latch();
      const slowCommit: Writer = async (work) => {
        const result = await uow.run(work);
        await committed.opened;
        return result;
      };
      let secondSent = false;
      const first = group.run(value(1), slowCommit);
      const second = group.run(async (tx) => {
        const n = await value(2)(tx);
        secondSent = true;
        return n;
      }, write);
      // Under one group at a time, the second waited for the first's commit, which waits here.
      try {
        await eventually('the second piece’s statement sent', () => secondSent, 5_000);
        expect(await second).toBe(2);
      } finally {
        committed.open();
      }
      expect(await first).toBe(1);
    });
  });

  it('pieces share one call per key, made once every piece has asked or ended', async () => {
    await inTenant(async (server) => {
      const { uow } = server.services;
      const group = new GroupCommit();
      const write: Writer = (work) => uow.run(work);
      const gate = latch();
      const calls: { key: string; wants: string[] }[] = [];
      // Each call answers every asker but the last: the key and what it wanted.
      const take = (key: string) => async (tx: Tx, _emit: unknown, wants: string[]) => {
        await value(wants.length)(tx);
        calls.push({ key, wants });
        return wants.map((w, i) => (i < 2 ? `${key}:${w}` : undefined));
      };
      const asking = (key: string, want: string) =>
        group.run(async (tx, _emit, shared) => {
          await value(0)(tx);
          return shared ? shared.share(key, want, take(key)) : null;
        }, write);
      // The first piece holds its transaction until the others wait; they form one group.
      const first = group.run(async (tx) => {
        await gate.opened;
        return value(1)(tx);
      }, write);
      const pieces = [
        asking('a', 'x'),
        asking('b', 'y'),
        asking('a', 'z'),
        asking('a', 'w'),
        group.run(value(4), write),
      ];
      gate.open();
      expect(await first).toBe(1);
      const asked = await Promise.all(pieces.slice(0, 4) as ReturnType<typeof asking>[]);
      const plain = await pieces[4];
      // One call per key, in the order first asked, with what each wanted in that order.
      expect(calls).toEqual([
        { key: 'a', wants: ['x', 'z', 'w'] },
        { key: 'b', wants: ['y'] },
      ]);
      expect([...asked.map((a) => a!.mine), plain]).toEqual(['a:x', 'b:y', 'a:z', undefined, 4]);
      expect(asked[0]!.all).toEqual(['a:x', 'a:z', 'b:y']);
    });
  });

  it('a shared call that fails fails its group; each piece then runs alone', async () => {
    await inTenant(async (server) => {
      const { uow } = server.services;
      const group = new GroupCommit();
      const write: Writer = (work) => uow.run(work);
      const gate = latch();
      let takes = 0;
      const asking = () =>
        group.run(async (tx, _emit, shared) => {
          await value(0)(tx);
          if (!shared) return 'alone';
          await shared.share('k', 1, async () => {
            takes++;
            throw new Error('the shared call failed');
          });
          return 'grouped';
        }, write);
      const first = group.run(async (tx) => {
        await gate.opened;
        return value(1)(tx);
      }, write);
      const pieces = [asking(), asking(), asking()];
      gate.open();
      expect(await first).toBe(1);
      expect(await Promise.all(pieces)).toEqual(['alone', 'alone', 'alone']);
      expect(takes).toBe(1);
    });
  });

  it('each end of a group is traced in the trace of its own step', async () => {
    await inTenant(async (server) => {
      const { uow } = server.services;
      const group = new GroupCommit();
      const write: Writer = (work) => uow.run(work);
      const tracer = trace.getTracer('group-commit-test');
      const gate = latch();
      exporter.reset();
      // Three steps' spans; the first end holds its transaction until the other two wait, so
      // theirs share one transaction that the second step's end opened.
      const inSpan = (name: string, work: (tx: Tx) => Promise<number>) =>
        tracer.startActiveSpan(name, (span) => group.run(work, write).finally(() => span.end()));
      const ends = [
        inSpan('step one', async (tx) => {
          await gate.opened;
          return value(1)(tx);
        }),
        inSpan('step two', value(2)),
        inSpan('step three', value(3)),
      ];
      gate.open();
      expect(await Promise.all(ends)).toEqual([1, 2, 3]);
      const spans = exporter.getFinishedSpans();
      const step = (name: string) => spans.find((s) => s.name === name)!;
      const statementsUnder = (parent: ReadableSpan) =>
        spans.filter(
          (s) =>
            s.parentSpanContext?.spanId === parent.spanContext().spanId &&
            s.attributes['db.system.name'] === 'neo4j',
        );
      for (const name of ['step one', 'step two', 'step three']) {
        const own = statementsUnder(step(name));
        expect(own, name).toHaveLength(1);
        expect(own[0]!.spanContext().traceId).toBe(step(name).spanContext().traceId);
      }
    });
  });
});
