import { describe, expect, it } from 'vitest';
import { byKey, waitForWorkflow } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';
import { ended, failingOnce, retried, retry } from './utils/retry.js';

/** retryTask on work the engine runs (issue 10): a step, a subtree, a whole workflow. */

describe('retryTask on orchestrated work', () => {
  it('a step of a finished workflow runs again, with its attempts reset, and the workflow settles anew', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root', failurePolicy: 'CONTINUE' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root' },
      ]);
      await withScheduler(server, failingOnce('a'), async () => {
        let k = byKey(await waitForWorkflow(server, ids.root!, ended(ids.root!)));
        expect([k.root!.status, k.a!.status, k.b!.status]).toEqual([
          'FAILED',
          'FAILED',
          'COMPLETED',
        ]);

        expect(await retried(server, ids.a!)).toEqual({
          id: ids.a,
          status: 'PENDING',
          attempts: 0,
          error: null,
        });
        k = byKey(
          await waitForWorkflow(server, ids.root!, (t) => byKey(t).root!.status === 'COMPLETED'),
        );
        expect(k.a!.status).toBe('COMPLETED');
        expect(k.a!.attempts).toBe(1);
        expect(k.a!.runs.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
        expect(JSON.parse(k.root!.result!)).toMatchObject({ a: { step: 'a' }, b: { step: 'b' } });
      });
    });
  });

  it('a failed workflow retried from its root reruns what failed or was cancelled, and completes', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
      ]);
      await withScheduler(server, failingOnce('a'), async () => {
        let k = byKey(await waitForWorkflow(server, ids.root!, ended(ids.root!)));
        expect(k.root!.status).toBe('FAILED');
        expect(k.a!.status).toBe('FAILED');
        expect(['CANCELLED', 'SKIPPED']).toContain(k.b!.status);

        expect(await retried(server, ids.root!)).toMatchObject({
          status: 'IN_PROGRESS',
          attempts: 0,
          error: null,
        });
        k = byKey(await waitForWorkflow(server, ids.root!, ended(ids.root!)));
        expect([k.root!.status, k.a!.status, k.b!.status]).toEqual([
          'COMPLETED',
          'COMPLETED',
          'COMPLETED',
        ]);
        expect(k.a!.attempts).toBe(1);
      });
    });
  });

  it('a failed subtree retried reruns its failed and cancelled steps, and its ancestors settle anew', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root', failurePolicy: 'CONTINUE' },
        { key: 'sub', title: 'Sub', parentKey: 'root' },
        { key: 's1', title: 'S1', parentKey: 'sub' },
        { key: 's2', title: 'S2', parentKey: 'sub', dependsOnKeys: ['s1'] },
        { key: 'x', title: 'X', parentKey: 'root' },
      ]);
      await withScheduler(server, failingOnce('s1'), async () => {
        let k = byKey(await waitForWorkflow(server, ids.root!, ended(ids.root!)));
        expect([k.root!.status, k.sub!.status, k.s1!.status, k.x!.status]).toEqual([
          'FAILED',
          'FAILED',
          'FAILED',
          'COMPLETED',
        ]);

        expect(await retried(server, ids.sub!)).toMatchObject({ status: 'PENDING', attempts: 0 });
        k = byKey(await waitForWorkflow(server, ids.root!, ended(ids.root!)));
        expect(Object.values(k).map((t) => [t.key, t.status])).toEqual(
          Object.values(k).map((t) => [t.key, 'COMPLETED']),
        );
        expect(k.x!.runs).toHaveLength(1); // what had completed is left alone
      });
    });
  });

  it('refuses, naming the status, what cannot be retried', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root' },
      ]);
      const running = await retry(server, ids.root!);
      expect(running.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(running.errors?.[0]?.message).toBe(
        'Cannot retry this task: it is PENDING, and only a FAILED or CANCELLED task can be retried',
      );
      // A failed step under a parent that completed (as an import may hold): never reopened.
      await server.graph.write((tx) =>
        tx.run({
          cypher: `MATCH (r:Task {tenantId: $tenantId, id: $root}), (a:Task {tenantId: $tenantId, id: $a})
                   SET r.status = 'COMPLETED', a.status = 'FAILED'`,
          params: { tenantId: server.tenantId, root: ids.root, a: ids.a },
        }),
      );
      const done = await retry(server, ids.root!);
      expect(done.errors?.[0]?.message).toMatch(/^Cannot retry this task: it is COMPLETED/);
      const under = await retry(server, ids.a!);
      expect(under.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(under.errors?.[0]?.message).toBe(
        'Cannot retry this task: the task "Root" above it is COMPLETED, and a finished workflow is not reopened',
      );
    });
  });
});
