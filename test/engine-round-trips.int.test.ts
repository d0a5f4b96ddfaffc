import { describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { statementName } from '../graph/statement-name.js';
import { echoExecutor, type Executor } from '../src/engine/executor.js';
import { TOPICS, type TaskUpdatedEvent } from '../subscriptions/topics.js';
import { allFinished, byKey, sweepNow, waitForWorkflow } from './utils/engine.js';
import { statementsByTransaction } from './utils/statements.js';
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

/**
 * The engine sends only the round trips its work needs (issue 15: at saturation every statement
 * a step sends is throughput lost, and below it every idle tick's write competes with the steps
 * that run). A step's end promotes only when something depends on it, and in the transaction
 * that records the end; a tick that finds nothing to claim or promote writes nothing.
 */
describe('the engine’s round trips', () => {
  it('promotes dependants only when the step has some', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const sent: {
        name: string;
        runs: { taskId: string; promote: boolean }[];
        read: string[];
      }[] = [];
      let ids: Record<string, string> = {};
      server.graph.onStatement = (q) => {
        const runs = (q.params?.runs ?? []) as { taskId: string; promote: boolean }[];
        const read = (q.params?.taskIds ?? []) as string[];
        sent.push({ name: statementName(q.cypher), runs, read });
      };
      try {
        // Of the three steps only `a` has a dependant.
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'A', parentKey: 'root' },
          { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
          { key: 'c', title: 'C', parentKey: 'root' },
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          const tasks = await waitForWorkflow(server, ids.root!, allFinished);
          expect(tasks.map((t) => t.status)).toEqual(Array(4).fill('COMPLETED'));
        });
      } finally {
        server.graph.onStatement = undefined;
      }
      const ends = sent.filter((s) => s.name === 'run.repository.endRunBatch');
      expect(ends.flatMap((s) => s.runs)).toHaveLength(3); // ends of a group share a statement
      // `a`'s dependants are read once: by the statement that ends its run when it ended alone,
      // else (its end grouped with another) by a statement of their own; nobody else's are.
      const reads = sent.filter((s) => s.name === 'promotion.repository.promotableDependantBatch');
      const aloneEnd = ends.some((s) => s.runs.length === 1 && s.runs[0]!.taskId === ids.a);
      expect(reads.flatMap((s) => s.read)).toEqual(aloneEnd ? [] : [ids.a]);
      // No step requires a capability: there are no capability statistics to update.
      expect(sent.filter((s) => s.name === 'run.repository.recordPerformance')).toEqual([]);
    });
  });

  it('promotes a step’s dependants in the transaction that records its end', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const statements = await statementsByTransaction(server, async () => {
        const ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'A', parentKey: 'root' },
          { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
          { key: 'c', title: 'C', parentKey: 'root', dependsOnKeys: ['b'] },
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          const tasks = await waitForWorkflow(server, ids.root!, allFinished);
          expect(tasks.map((t) => t.status)).toEqual(Array(4).fill('COMPLETED'));
        });
      });
      // a and b have a dependant each. In a transaction of its own, the promotion left a
      // committed moment in which the step had ended and its dependant still waited, and
      // every other scheduler's tick raced the ending worker to promote it.
      const promotions = statements.filter(
        (names) =>
          names.includes('run.repository.endRunBatch') &&
          names.includes('promotion.repository.changeStatusBatch'),
      );
      expect(promotions).toHaveLength(2);
      for (const names of promotions) expect(names).toContain('run.repository.endRunBatch');
      // Ending alone and changing nothing else, each end read its dependants itself: no round
      // trip of its own for them (issue 15).
      expect(statements.flat()).not.toContain('promotion.repository.promotableDependantBatch');
    });
  });

  it('records the agent versions a claim’s runs use in the statement that starts them', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [], Other: [] });
      const names: string[] = [];
      server.graph.onStatement = (q) => names.push(statementName(q.cypher));
      try {
        const ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          ...['a', 'b', 'c', 'd'].map((key) => ({ key, title: key, parentKey: 'root' })),
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          await waitForWorkflow(server, ids.root!, allFinished);
        });
      } finally {
        server.graph.onStatement = undefined;
      }
      // The agents have their LIVE versions from creation: nothing to make, and the statement
      // that starts the runs chooses each run's version and records it (a claim took three
      // statements for it once: make, read, record; then one of its own).
      const claims = names.filter((n) => n === 'run.repository.startRuns').length;
      expect(claims).toBeGreaterThan(0);
      expect(names.filter((n) => /^(agent|used)-version\.repository\./.test(n))).toEqual([]);
      const used = await server.graph.read((tx) =>
        tx.run<{ runs: number; used: number }>({
          cypher: `MATCH (r:Run)-[:OF]->(:Task {tenantId: $tenantId})
                   RETURN count(r) AS runs,
                     sum(CASE WHEN EXISTS { (r)-[:USED_VERSION]->() } THEN 1 ELSE 0 END) AS used`,
          params: { tenantId: server.tenantId },
        }),
      );
      expect(Number(used[0]!.runs)).toBeGreaterThan(0);
      expect(Number(used[0]!.used)).toBe(Number(used[0]!.runs));
    });
  });

  it('announces the steps a claim starts from the statement that starts their runs', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const heard: TaskUpdatedEvent[] = [];
      const feed = server.pubsub.subscribe(TOPICS.taskUpdated, { tenantId: server.tenantId });
      void (async () => {
        for await (const e of feed) heard.push(e as TaskUpdatedEvent);
      })();
      let ids: Record<string, string> = {};
      const statements = await statementsByTransaction(server, async () => {
        // b starts in the end of a (its own claim) and d beside them (a scheduler’s claim).
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'A', parentKey: 'root' },
          { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
          { key: 'd', title: 'D', parentKey: 'root' },
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          await waitForWorkflow(server, ids.root!, allFinished);
        });
        await eventually('three STARTED events', () =>
          expect(heard.filter((e) => e.change === 'STARTED')).toHaveLength(3),
        );
      }).finally(() => feed.return?.());
      // Nothing after the runs' start changes their steps; numbering the events there saves the
      // round trip of a statement that read them again, with the steps' locks held.
      const claims = statements.filter((n) => n.includes('run.repository.startRuns'));
      expect(claims.length).toBeGreaterThan(0);
      for (const names of claims) {
        const after = names.slice(names.indexOf('run.repository.startRuns'));
        expect(after).not.toContain('task-event.repository.taskEventBatch');
      }
      // Each STARTED event is the step as committed, numbered after the step's events before it.
      for (const key of ['a', 'b', 'd']) {
        const mine = heard.filter((e) => e.task.id === ids[key]);
        const started = mine.find((e) => e.change === 'STARTED')!;
        expect(started.task.status).toBe('IN_PROGRESS');
        expect(started.ancestorIds).toEqual([ids.root]);
        const seqs = mine.map((e) => e.seq!);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(mine.length);
      }
    });
  });

  it('gives the agent of a claimed run from before versions its version 1 in the claim', async () => {
    await inTenant(async (server) => {
      const { Operator } = await createOperators(server, { Operator: [] });
      // As an agent made before versions began: none of its own.
      await server.graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (:Agent {id: $id})-[:HAS_VERSION]->(v) DETACH DELETE v',
          params: { id: Operator },
        }),
      );
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'a', parentKey: 'root' },
      ]);
      await withScheduler(server, echoExecutor(), async () => {
        await waitForWorkflow(server, ids.root!, allFinished);
      });
      const used = await server.graph.read((tx) =>
        tx.run<{ version: number; status: string }>({
          cypher: `MATCH (:Agent {id: $id})<-[:BY]-(:Run)-[:USED_VERSION]->(v:AgentVersion)
                   RETURN v.version AS version, v.status AS status`,
          params: { id: Operator },
        }),
      );
      expect(used.map((u) => [Number(u.version), u.status])).toEqual([[1, 'LIVE']]);
    });
  });

  it('sends no write while there is nothing to claim or promote', async () => {
    await inTenant(async (server) => {
      const graph = server.graph;
      const write = graph.write.bind(graph);
      let writes = 0;
      let ticks = 0;
      graph.write = <T>(work: (tx: Tx) => Promise<T>) => {
        writes++;
        return write(work);
      };
      // Every tick looks at the queue's head, after its sweep: one tick has passed (and with it
      // the first tick's sweep, which writes) once this statement has been sent.
      graph.onStatement = (q) =>
        void (statementName(q.cypher) === 'claim.repository.anyClaimable' && ticks++);
      try {
        // pollMs 20: some fifty idle ticks a second; the next sweep is leaseMs / 3 = 20 s away.
        const options = { leaseMs: 60_000 };
        await withScheduler(
          server,
          echoExecutor(),
          async () => {
            await eventually('the first tick', () => ticks > 0);
            writes = 0;
            const before = ticks;
            await sleep(1_000);
            expect(ticks - before).toBeGreaterThan(0); // it went on ticking
          },
          options,
        );
      } finally {
        graph.write = write;
        graph.onStatement = undefined;
      }
      expect(writes).toBe(0); // a claim transaction per idle tick before
    });
  });

  it('looks for promotable steps when an event asks or once a queue poll, not every tick', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const blocked = Array.from({ length: 30 }, (_, i) => `b${i}`);
      const release = latch();
      let running = false;
      const executor: Executor = async (input) => {
        if (input.task.title === 'A') {
          running = true;
          await Promise.race([release.opened, untilAborted(input.signal)]);
        }
        return echoExecutor()(input);
      };
      let looks = 0;
      server.graph.onStatement = (q) =>
        void (statementName(q.cypher) === 'promotion.repository.anyPromotable' && looks++);
      try {
        await withScheduler(server, executor, async () => {
          const ids = await startPlan(server, [
            { key: 'root', title: 'Root' },
            { key: 'a', title: 'A', parentKey: 'root' },
            ...blocked.map((key) => ({ key, title: key, parentKey: 'root', dependsOnKeys: ['a'] })),
          ]);
          await eventually('A running', () => running);
          // Thirty PENDING steps wait for A: a look reads them all. At pollMs 20 a tick looked
          // fifty times a second; now once a queue poll (1 s), as no event asks.
          const before = looks;
          await sleep(1_000);
          expect(looks - before).toBeLessThanOrEqual(2);
          // A's end promotes all thirty itself, and the workflow completes.
          release.open();
          const tasks = await waitForWorkflow(server, ids.root!, allFinished);
          expect(tasks.map((t) => t.status)).toEqual(Array(32).fill('COMPLETED'));
        });
      } finally {
        server.graph.onStatement = undefined;
      }
    });
  });

  it('renews the leases of all the steps it runs with one statement a heartbeat', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      // What each heartbeat statement renewed (a statement a step before: 100 write
      // transactions a second for 1,000 steps on the default 30 s lease).
      const heartbeats: string[][] = [];
      server.graph.onStatement = (q) => {
        const name = statementName(q.cypher);
        if (name === 'lease.repository.renewLeases' || name === 'run.repository.heartbeat') {
          const p = q.params as { taskIds?: string[]; taskId?: string };
          heartbeats.push([...(p.taskIds ?? [p.taskId!])].sort());
        }
      };
      const running = new Set<string>();
      const finish = latch();
      const executor: Executor = async ({ task, signal }) => {
        running.add(task.id);
        await Promise.race([finish.opened, untilAborted(signal)]);
        return { result: `${task.key} done` };
      };
      try {
        const ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          ...keys.map((key) => ({ key, title: key, parentKey: 'root' })),
        ]);
        await withScheduler(
          server,
          executor,
          async () => {
            await eventually('all eight steps running', () => running.size === keys.length);
            const from = heartbeats.length;
            // Three heartbeats (a third of the lease apart) span the whole lease.
            await eventually('three heartbeats', () => heartbeats.length - from >= 3);
            const all = keys.map((k) => ids[k]!).sort();
            expect(heartbeats.slice(from, from + 3)).toEqual([all, all, all]);
            // Renewed all along: a sweep now takes none of them back.
            await sweepNow(server);
            finish.open();
            const tasks = byKey(await waitForWorkflow(server, ids.root!, allFinished));
            for (const key of keys) {
              expect(tasks[key]!.runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
            }
          },
          // A lease a loaded machine's heartbeats keep: none may be taken back.
          { concurrency: keys.length, perAgentLimit: keys.length, leaseMs: 6_000 },
        );
      } finally {
        server.graph.onStatement = undefined;
      }
    });
  });

  it('aborts only the step whose lease was taken, at the next heartbeat', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'taken', title: 'Taken', parentKey: 'root' },
        { key: 'kept', title: 'Kept', parentKey: 'root' },
      ]);
      const running = new Set<string>();
      const aborted: string[] = [];
      const finish = latch();
      const executor: Executor = async ({ task, signal }) => {
        running.add(task.key!);
        try {
          await Promise.race([finish.opened, untilAborted(signal)]);
        } catch (err) {
          aborted.push(`${task.key}: ${(err as Error).message}`);
          throw err;
        }
        return { result: `${task.key} done` };
      };
      await withScheduler(
        server,
        executor,
        async () => {
          await eventually('both steps running', () => running.size === 2);
          // Taken by another worker without an event: only the heartbeat can notice.
          await server.graph.write((tx) =>
            tx.run({
              cypher: `MATCH (t:Task {id: $id}) SET t.leaseOwner = 'another-worker'`,
              params: { id: ids.taken },
            }),
          );
          await eventually('the taken step aborted', () => aborted.length > 0);
          // By the heartbeat, not by a sweep or an event.
          expect(aborted).toEqual(['taken: the task is no longer this worker’s']);
          finish.open();
          const kept = (tasks: Parameters<typeof byKey>[0]) =>
            byKey(tasks).kept?.status === 'COMPLETED';
          await waitForWorkflow(server, ids.root!, kept);
          expect(aborted.filter((a) => a.startsWith('kept'))).toEqual([]);
        },
        // A lease a loaded machine's heartbeats keep: only the taken step may lose it.
        { concurrency: 2, perAgentLimit: 2, leaseMs: 6_000 },
      );
    });
  });
});
