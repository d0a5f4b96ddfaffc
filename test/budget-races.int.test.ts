import { expect, it } from 'vitest';
import { UNLIMITED_BUDGETS } from '../src/domain/budget.js';
import type { Executor } from '../src/engine/executor.js';
import { checkBudgets } from '../src/llm/budget.js';
import { waitForWorkflow } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';

/*
 * A budget raised while a step's refused call is on its way to waiting (budgets.int.test.ts:
 * raised while it waits). setBudget re-queues the steps that wait for a budget; a step refused
 * before the raise and parked after it was not one of them yet, and waited for a raise that
 * had already happened.
 */

const SET = `mutation($id: ID!, $tokens: Int) { setBudget(scope: TASK, id: $id, tokens: $tokens) {
  budget { scope } } }`;

it('re-queues a step refused before a raise that committed before it waited', async () => {
  await inTenant(async (server) => {
    await createOperators(server, { Op: ['x'] });
    let rootId = '';
    let calls = 0;
    const executor: Executor = async ({ task, agent }) => {
      calls++;
      const subject = { tenantId: task.tenantId, agentId: agent.id, taskId: task.id };
      const deps = { uow: server.services.uow, defaults: UNLIMITED_BUDGETS };
      const refused = await checkBudgets(deps, subject, 100).then(
        () => null,
        (err: unknown) => err,
      );
      if (refused) {
        // The person raises the budget after the refusal, before the step's end commits.
        const raised = await server.gql(SET, { id: rootId, tokens: 1_000_000 } as never);
        expect(raised.errors).toBeUndefined();
        throw refused;
      }
      return { result: 'done' };
    };
    const ids = await startPlan(server, [
      { key: 'root', title: 'root' },
      { key: 'a', title: 'a', parentKey: 'root', requiredCapabilities: ['x'] },
    ]);
    rootId = ids.root!;
    expect((await server.gql(SET, { id: rootId, tokens: 0 } as never)).errors).toBeUndefined();
    await withScheduler(server, executor, async () => {
      const tasks = await waitForWorkflow(server, rootId, (all) =>
        all.some((t) => t.key === 'root' && t.status === 'COMPLETED'),
      );
      expect(tasks.find((t) => t.key === 'a')?.status).toBe('COMPLETED');
    });
    expect(calls).toBe(2);
  });
}, 90_000);
