import { describe, expect, it } from 'vitest';
import { workflowOf, workflowOutline } from '../graph/workflow.repository.js';
import type { Executor } from '../src/engine/executor.js';
import { byKey, sweepNow, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  eventually,
  inTenant,
  latch,
  startPlan,
  untilAborted,
  withScheduler,
} from './utils/engine-steps.js';
import { ended, failingOnce, retried, statusChanges } from './utils/retry.js';
import type { TestServer } from './utils/server.js';

/**
 * retryTask on one step brings back the work its failure or cancellation skipped: the steps
 * SKIPPED because of it (at any distance, and beside its ancestors), the steps a fail-fast
 * parent cancelled for it, and the steps under a skipped parent; not what ended otherwise.
 */

/** Statuses by key now, with no scheduler running (the retry's own writes, nothing after). */
async function statuses(server: TestServer, rootId: string): Promise<Record<string, string>> {
  const tasks = await waitForWorkflow(server, rootId, () => true);
  return Object.fromEntries(tasks.map((t) => [t.key ?? t.title, t.status]));
}

/**
 * Retries `id` and returns the statuses by key after it, once an event was heard for every
 * task whose status it changed.
 */
async function retriedAll(server: TestServer, rootId: string, id: string) {
  const before = await statuses(server, rootId);
  const feed = statusChanges(server);
  try {
    expect(await retried(server, id)).toMatchObject({ status: 'PENDING', attempts: 0 });
    const tasks = await waitForWorkflow(server, rootId, () => true);
    const changed = tasks.filter((t) => before[t.key!] !== t.status);
    await eventually('an event for each task the retry changed', () =>
      changed.every((t) =>
        feed.heard.some(([heard, status]) => heard === t.id && status === t.status),
      ),
    );
    return Object.fromEntries(tasks.map((t) => [t.key!, t.status]));
  } finally {
    await feed.stop();
  }
}

const allCompleted = (rootId: string) => (tasks: { id: string; status: string }[]) =>
  ended(rootId)(tasks) && tasks.every((t) => t.status === 'COMPLETED');

describe('retryTask on a step brings back what its end skipped', () => {
  it('a failed step retried brings back the steps skipped because of it, and they run', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root', failurePolicy: 'CONTINUE' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
        { key: 'c', title: 'C', parentKey: 'root', dependsOnKeys: ['b'] },
        { key: 'x', title: 'X', parentKey: 'root' },
      ]);
      const executor = failingOnce('a');
      await withScheduler(server, executor, async () => {
        await waitForWorkflow(server, ids.root!, ended(ids.root!));
      });
      expect(await statuses(server, ids.root!)).toEqual({
        root: 'FAILED',
        a: 'FAILED',
        b: 'SKIPPED',
        c: 'SKIPPED',
        x: 'COMPLETED',
      });
      // The retry decides by the outline: the workflow less results, descriptions and times,
      // and whether approvePlan removed each from its plan.
      const [whole, outline] = await server.graph.read(
        async (tx) =>
          [
            await workflowOf(tx, server.tenantId, ids.root!),
            await workflowOutline(tx, server.tenantId, ids.root!),
          ] as const,
      );
      expect(outline).toStrictEqual({
        tasks: whole!.tasks.map(({ id, title, status, error, orchestrated }) => {
          return { id, title, status, error, orchestrated, removed: false };
        }),
        edges: whole!.edges,
      });
      expect(whole!.tasks.find((t) => t.id === ids.x)!.result).toBeTruthy();

      expect(await retriedAll(server, ids.root!, ids.a!)).toEqual({
        root: 'IN_PROGRESS',
        a: 'PENDING',
        b: 'PENDING',
        c: 'PENDING',
        x: 'COMPLETED',
      });

      await withScheduler(server, executor, async () => {
        const k = byKey(await waitForWorkflow(server, ids.root!, allCompleted(ids.root!)));
        expect(JSON.parse(k.root!.result!)).toMatchObject({ c: { step: 'c' } });
        expect(k.x!.runs).toHaveLength(1); // what had completed is left alone
      });
    });
  });

  it('a step cancelled by hand and retried brings back its skipped dependant', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
      ]);
      const cancelled = await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, {
        id: ids.a,
      } as never);
      expect(cancelled.errors).toBeUndefined();
      await sweepNow(server);
      expect(await statuses(server, ids.root!)).toEqual({
        root: 'CANCELLED',
        a: 'CANCELLED',
        b: 'SKIPPED',
      });

      expect(await retriedAll(server, ids.root!, ids.a!)).toEqual({
        root: 'IN_PROGRESS',
        a: 'PENDING',
        b: 'PENDING',
      });
      await withScheduler(server, failingOnce(), async () => {
        await waitForWorkflow(server, ids.root!, allCompleted(ids.root!));
      });
    });
  });

  it('brings back the dependants of the ancestors it reopens, and the steps under a skipped parent', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root', failurePolicy: 'CONTINUE' },
        { key: 'sub', title: 'Sub', parentKey: 'root' },
        { key: 's1', title: 'S1', parentKey: 'sub' },
        { key: 's2', title: 'S2', parentKey: 'sub', dependsOnKeys: ['s1'] },
        { key: 'next', title: 'Next', parentKey: 'root', dependsOnKeys: ['sub'] },
        { key: 'n1', title: 'N1', parentKey: 'next' },
      ]);
      const executor = failingOnce('s1');
      await withScheduler(server, executor, async () => {
        await eventually(
          'the workflow to fail',
          async () =>
            byKey(await waitForWorkflow(server, ids.root!, () => true)).root!.status === 'FAILED',
        );
      });
      await sweepNow(server); // cancels the steps left waiting under the skipped parent
      const before = await statuses(server, ids.root!);
      expect(before).toMatchObject({ root: 'FAILED', sub: 'FAILED', s1: 'FAILED' });
      expect(['SKIPPED', 'CANCELLED']).toContain(before.s2);
      expect([before.next, before.n1]).toEqual(['SKIPPED', 'CANCELLED']);

      expect(await retriedAll(server, ids.root!, ids.s1!)).toEqual({
        root: 'IN_PROGRESS',
        sub: 'IN_PROGRESS',
        s1: 'PENDING',
        s2: 'PENDING',
        next: 'PENDING',
        n1: 'PENDING',
      });
      await withScheduler(server, executor, async () => {
        await waitForWorkflow(server, ids.root!, allCompleted(ids.root!));
      });
    });
  });

  it('brings back the steps its fail-fast parent cancelled when it failed', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const xRuns = latch();
      const failsOnce = failingOnce('a');
      let first = true;
      // X is running when A fails (its first attempt waits to be aborted); A fails once.
      const executor: Executor = async (step) => {
        if (step.task.key === 'x' && first) {
          first = false;
          xRuns.open();
          return untilAborted(step.signal);
        }
        if (step.task.key === 'a') await xRuns.opened;
        return failsOnce(step);
      };
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'x', title: 'X', parentKey: 'root' },
      ]);
      await withScheduler(server, executor, async () => {
        await waitForWorkflow(server, ids.root!, ended(ids.root!));
      });
      const k = byKey(await waitForWorkflow(server, ids.root!, () => true));
      expect([k.root!.status, k.a!.status, k.x!.status]).toEqual(['FAILED', 'FAILED', 'CANCELLED']);
      expect(k.x!.error).toBe('cancelled: step "A" failed');

      expect(await retriedAll(server, ids.root!, ids.a!)).toEqual({
        root: 'IN_PROGRESS',
        a: 'PENDING',
        x: 'PENDING',
      });
      await withScheduler(server, executor, async () => {
        await waitForWorkflow(server, ids.root!, allCompleted(ids.root!));
      });
    });
  });

  it('leaves skipped what a person decided or another failure still skips, and decides a condition anew', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root', failurePolicy: 'CONTINUE' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'f', title: 'F', parentKey: 'root' },
        { key: 'x', title: 'X', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
        // Skipped by a failure that is not retried: it stays skipped.
        { key: 'j', title: 'J', parentKey: 'root', dependsOnKeys: ['a', 'f'] },
        // Its condition read B, skipped because of A: decided again once B has run.
        {
          key: 'k',
          title: 'K',
          parentKey: 'root',
          dependsOnKeys: ['b', 'x'],
          condition: 'steps.b.status == "COMPLETED"',
        },
        // A person rejected it: it stays skipped.
        {
          key: 'r',
          title: 'R',
          parentKey: 'root',
          dependsOnKeys: ['b', 'x'],
          requiresApproval: true,
        },
      ]);
      const executor = failingOnce('a', 'f');
      await withScheduler(server, executor, async () => {
        await eventually(
          'R to wait for approval',
          async () =>
            byKey(await waitForWorkflow(server, ids.root!, () => true)).r!.status ===
            'AWAITING_APPROVAL',
        );
        const rejected = await server.gql(`mutation($id: ID!) { rejectTask(id: $id) { status } }`, {
          id: ids.r,
        } as never);
        expect(rejected.errors).toBeUndefined();
        await waitForWorkflow(server, ids.root!, ended(ids.root!));
      });
      expect(await statuses(server, ids.root!)).toEqual({
        root: 'FAILED',
        a: 'FAILED',
        f: 'FAILED',
        x: 'COMPLETED',
        b: 'SKIPPED',
        j: 'SKIPPED',
        k: 'SKIPPED',
        r: 'SKIPPED',
      });

      expect(await retriedAll(server, ids.root!, ids.a!)).toEqual({
        root: 'IN_PROGRESS',
        a: 'PENDING',
        f: 'FAILED',
        x: 'COMPLETED',
        b: 'PENDING',
        j: 'SKIPPED',
        k: 'PENDING',
        r: 'SKIPPED',
      });
      await withScheduler(server, executor, async () => {
        const k = byKey(await waitForWorkflow(server, ids.root!, ended(ids.root!)));
        expect(Object.fromEntries(Object.values(k).map((t) => [t.key, t.status]))).toEqual({
          root: 'FAILED', // F still failed
          a: 'COMPLETED',
          f: 'FAILED',
          x: 'COMPLETED',
          b: 'COMPLETED',
          j: 'SKIPPED',
          k: 'COMPLETED',
          r: 'SKIPPED',
        });
      });
    });
  });
});
