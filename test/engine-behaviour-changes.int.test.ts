import { describe, expect, it } from 'vitest';
import { echoExecutor, type Executor } from '../src/engine/executor.js';
import { graphql } from './generated/index.js';
import { allFinished, byKey, sweepNow, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  createPlan,
  eventually,
  inTenant,
  latch,
  publishedEnds,
  sleep,
  startPlan,
  startWorkflow,
  untilAborted,
  withScheduler,
} from './utils/engine-steps.js';
import { subscribe } from './utils/ws.js';

/** The orchestration engine's rules, one tenant per test: cancellation, redistribution and the
 * live feed (engine-behaviour-retries.int.test.ts: retries and conditions). */

const Step = graphql(`
  query EngineBehaviourStep($id: ID!) {
    task(id: $id) {
      status
      assignment {
        agent {
          name
        }
      }
    }
  }
`);

const CancelTask = graphql(`
  mutation EngineBehaviourCancel($id: ID!) {
    cancelTask(id: $id) {
      status
    }
  }
`);

const DeactivateAgent = graphql(`
  mutation EngineBehaviourDeactivate($id: ID!) {
    deactivateAgent(id: $id) {
      active
    }
  }
`);

const StepUpdates = graphql(`
  subscription EngineBehaviourStepUpdates($id: ID!) {
    taskUpdated(taskId: $id) {
      change
      task {
        status
      }
    }
  }
`);

const WorkflowUpdates = graphql(`
  subscription EngineBehaviourWorkflowUpdates($rootId: ID!) {
    taskUpdated(rootId: $rootId) {
      change
      task {
        key
        status
      }
    }
  }
`);

describe('the engine: cancellation', () => {
  it('cancels a running subtree: executors see the abort, runs end CANCELLED, nothing retries', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [], Helper: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Report' },
        { key: 'batch', title: 'Batch', parentKey: 'root' },
        { key: 'a', title: 'A', parentKey: 'batch' },
        { key: 'b', title: 'B', parentKey: 'batch' },
        { key: 'c', title: 'C', parentKey: 'batch' },
        { key: 'd', title: 'D', parentKey: 'batch', dependsOnKeys: ['a'] },
        { key: 'e', title: 'E', parentKey: 'batch', dependsOnKeys: ['b', 'c'] },
        { key: 'side', title: 'Side', parentKey: 'root' },
      ]);
      const ends = publishedEnds(server);
      const started: string[] = [];
      const sawAbort = new Map<string, boolean>();
      const executor: Executor = async ({ task, signal }) => {
        started.push(task.key!);
        if (task.key === 'side') return { result: 'side done' };
        signal.addEventListener('abort', () => sawAbort.set(task.key!, signal.aborted));
        return untilAborted(signal);
      };
      await withScheduler(server, executor, async (scheduler) => {
        await waitForWorkflow(server, ids.root!, (tasks) =>
          ['a', 'b', 'c'].every((key) =>
            tasks.some((t) => t.key === key && t.status === 'IN_PROGRESS' && t.runs.length === 1),
          ),
        );
        await eventually('the three executors to start', () =>
          ['a', 'b', 'c'].every((key) => started.includes(key)),
        );

        const res = await server.gql(CancelTask, { id: ids.batch! });
        expect(res.errors).toBeUndefined();
        expect(res.data!.cancelTask.status).toBe('CANCELLED');
        await eventually('the three aborts', () => sawAbort.size === 3);
        expect(Object.fromEntries(sawAbort)).toEqual({ a: true, b: true, c: true });

        // The root's end published (a poll may see its status before the rest of its commit:
        // publishedEnds) and the aborted attempts' ends recorded (a retry would be READY by
        // now), then a lease sweep with settling and promotion: nothing may run again.
        await ends.ended(ids.root!);
        await eventually('the aborted attempts to wind down', () => scheduler.running === 0);
        const settled = await waitForWorkflow(server, ids.root!, allFinished);
        await sweepNow(server);
        const again = await waitForWorkflow(server, ids.root!, () => true);
        expect(again).toEqual(settled);
        const k = byKey(again);
        for (const key of ['batch', 'a', 'b', 'c', 'd', 'e'])
          expect(k[key]!.status).toBe('CANCELLED');
        for (const key of ['a', 'b', 'c']) {
          expect(k[key]!.runs.map((r) => r.status)).toEqual(['CANCELLED']);
        }
        // Each cancelled run says who cancelled it, as its task does.
        const runErrors = await server.graph.read((tx) =>
          tx.run<{ error: string }>({
            cypher: `MATCH (t:Task)<-[:OF]-(r:Run) WHERE t.id IN $ids RETURN r.error AS error`,
            params: { ids: [ids.a, ids.b, ids.c] },
          }),
        );
        expect(runErrors.map((r) => r.error)).toEqual(Array(3).fill('cancelled by test admin'));
        expect(k.d!.runs).toEqual([]);
        expect(k.e!.runs).toEqual([]);
        expect(k.side!.status).toBe('COMPLETED');
        expect(started.sort()).toEqual(['a', 'b', 'c', 'side']);
      });
      ends.stop();
    });
  });
});

describe('the engine: redistribution', () => {
  it('moves a deactivated agent’s running and queued steps to another capable agent', async () => {
    await inTenant(async (server) => {
      const { A } = await createOperators(server, { A: ['work'] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Redistribute' },
        { key: 'first', title: 'First', parentKey: 'root', requiredCapabilities: ['work'] },
        {
          key: 'queued',
          title: 'Queued',
          parentKey: 'root',
          requiredCapabilities: ['work'],
          dependsOnKeys: ['first'],
          assigneeId: A,
        },
      ]);
      const calls: { key: string; agent: string; signal: AbortSignal }[] = [];
      let stoppedAfterAbort = 0;
      const release = latch();
      const executor: Executor = async ({ task, agent, signal }) => {
        calls.push({ key: task.key!, agent: agent.name, signal });
        try {
          await Promise.race([release.opened, untilAborted(signal)]);
        } catch (reason) {
          await sleep(300); // an executor that takes a while to clean up after an abort
          stoppedAfterAbort++;
          throw reason;
        }
        return { result: `${task.key} by ${agent.name}` };
      };
      await withScheduler(server, executor, async (scheduler) => {
        await eventually('the first step to start on A', () => calls.length === 1);
        expect(calls[0]).toMatchObject({ key: 'first', agent: 'A' });

        await createOperators(server, { B: ['work'] });
        const updates = await subscribe(server, StepUpdates, { id: ids.first! });
        try {
          const res = await server.gql(DeactivateAgent, { id: A! });
          expect(res.data?.deactivateAgent.active).toBe(false);
          const update = await updates.waitForNext();
          expect(update.data?.taskUpdated).toEqual({
            change: 'REASSIGNING',
            task: { status: 'READY' },
          });
        } finally {
          await updates.close();
        }
        // The queued step lost its assignment to A at once.
        const queued = await server.gql(Step, { id: ids.queued! });
        expect(queued.data!.task).toMatchObject({ status: 'PENDING', assignment: null });

        await eventually('the first step to run again on B', () => calls.length === 2);
        expect(calls[1]).toMatchObject({ key: 'first', agent: 'B' });
        expect(calls[0]!.signal.aborted).toBe(true);
        await eventually('the aborted executor to stop', () => stoppedAfterAbort === 1);
        // Regression: the aborted attempt's cleanup must not forget the attempt that replaced it.
        expect(scheduler.running).toBe(1);

        release.open();
        const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
        expect(k.first!.runs.map((r) => [r.status, r.agent?.name])).toEqual([
          ['ABORTED', 'A'],
          ['SUCCEEDED', 'B'],
        ]);
        expect(k.first).toMatchObject({ status: 'COMPLETED', result: 'first by B' });
        expect(k.queued!.runs.map((r) => [r.status, r.agent?.name])).toEqual([['SUCCEEDED', 'B']]);
        expect(k.queued!.assignment?.agent.name).toBe('B');
        expect(k.root!.status).toBe('COMPLETED');
        expect(calls.map((c) => `${c.key}@${c.agent}`)).toEqual(['first@A', 'first@B', 'queued@B']);
      });
    });
  });
});

describe('the engine: live updates', () => {
  it('taskUpdated(rootId) shows a workflow’s transitions in commit order, ending with the root COMPLETED', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await createPlan(server, [
        { key: 'root', title: 'Live' },
        { key: 'first', title: 'First', parentKey: 'root' },
        { key: 'second', title: 'Second', parentKey: 'root', dependsOnKeys: ['first'] },
      ]);
      const updates = await subscribe(server, WorkflowUpdates, { rootId: ids.root! });
      try {
        const seen: string[] = [];
        const changes = new Set<string>();
        await withScheduler(server, echoExecutor(), async () => {
          await startWorkflow(server, ids.root!);
          while (seen.at(-1) !== 'root COMPLETED' && seen.length < 20) {
            const event = await updates.waitForNext();
            expect(event.errors).toBeUndefined();
            const { change, task } = event.data!.taskUpdated;
            changes.add(change);
            seen.push(
              change === 'STATUS_CHANGED'
                ? `${task.key} ${task.status}`
                : `${task.key} ${task.status} (${change})`,
            );
          }
          expect(seen).toEqual([
            'root PENDING (WORKFLOW_STARTED)',
            'root IN_PROGRESS',
            'first READY',
            'first IN_PROGRESS (STARTED)',
            'first COMPLETED',
            // Handed to the slot `first` freed, in the commit that ended it (hand-off.ts): it
            // went from PENDING to IN_PROGRESS in one commit, never READY in any.
            'second IN_PROGRESS (STARTED)',
            'second COMPLETED',
            'root COMPLETED',
          ]);
        });
        // The schema says what `change` may be: it listed five, none of them WORKFLOW_STARTED.
        const doc = await server.gql(
          `{ __type(name: "TaskUpdate") { fields { name description } } }`,
        );
        const fields = (doc.data as { __type: { fields: { name: string; description: string }[] } })
          .__type.fields;
        const described = fields.find((f) => f.name === 'change')!.description;
        for (const change of changes) expect(described).toContain(change);
        // The scheduler has stopped, so all it announced came before this control step's creation.
        const extra = await updates.heardBefore(
          () => createPlan(server, [{ key: 'control', title: 'Control', parentId: ids.root! }]),
          (e) => e.data?.taskUpdated.task.key === 'control',
        );
        expect(extra).toEqual([]);
      } finally {
        await updates.close();
      }
    });
  });
});
