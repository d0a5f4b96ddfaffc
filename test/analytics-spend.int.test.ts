import { expect, it } from 'vitest';
import { budgetedSpender, spenderSuite } from './utils/budget-fixtures.js';
import { byKey, startScheduler, waitForWorkflow } from './utils/engine.js';

/**
 * agentPerformance and capabilityPerformance left out the model calls of every attempt that
 * ended without an outcome: an attempt a spent budget (or a held tool call) stopped ends
 * INTERRUPTED, yet its calls were paid for. Such attempts are still no runs of the figures
 * (runs, success, latency), but their spend is now in costUsd and costPerSuccessUsd.
 */
const suite = spenderSuite('Payer', 'sourcing', { prompt_tokens: 900, completion_tokens: 100 });
const { gql } = suite;

it('counts the spend of an attempt a budget interrupted in costUsd, not as a run', async () => {
  // Two calls an attempt: the first is paid for; the second's prompt alone (about 2,500
  // tokens) would pass the agent's 2,000, so it is refused whatever is booked by then.
  const spend = budgetedSpender(suite.server, suite.scripted.baseURL, 2, (i) =>
    i === 1 ? 'call 1' : 'x'.repeat(10_000),
  );
  const plan = await gql<{ createTasks: { id: string }[] }>(`mutation { createTasks(inputs: [
      { key: "root", title: "Paid twice" },
      { key: "spend", title: "Source the parts", parentKey: "root",
        requiredCapabilities: ["sourcing"] }
    ]) { id key } }`);
  const rootId = plan.createTasks[0]!.id;
  const budget = `mutation($id: ID, $tokens: Int) {
    setBudget(scope: AGENT, id: $id, tokens: $tokens) { budget { tokens } } }`;
  await gql(budget, { id: suite.agentId, tokens: 2000 });
  await gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, { id: rootId });
  const scheduler = startScheduler(suite.server, spend);
  let stepId: string;
  try {
    const waiting = await waitForWorkflow(suite.server, rootId, (tasks) => {
      const step = byKey(tasks).spend!;
      return step.status === 'AWAITING_APPROVAL' && step.runs.length === 1;
    });
    expect(byKey(waiting).spend!.runs.map((r) => r.status)).toEqual(['INTERRUPTED']);
    await gql(budget, { id: suite.agentId, tokens: null });
    const done = await waitForWorkflow(suite.server, rootId, (tasks) =>
      ['COMPLETED', 'FAILED'].includes(byKey(tasks).root!.status),
    );
    expect(byKey(done).root!.status).toBe('COMPLETED');
    stepId = byKey(done).spend!.id;
  } finally {
    await scheduler.stop({ abort: true });
  }
  const { task } = await gql<{
    task: { runs: { status: string; llmUsage: { calls: number; costUsd: number } }[] };
  }>(`query($id: ID!) { task(id: $id) { runs { status llmUsage { calls costUsd } } } }`, {
    id: stepId,
  });
  // The interrupted attempt paid for one call, the one that succeeded for two.
  const calls = Object.fromEntries(task.runs.map((r) => [r.status, r.llmUsage.calls]));
  expect(calls).toEqual({ INTERRUPTED: 1, SUCCEEDED: 2 });
  const paid = task.runs.reduce((sum, r) => sum + r.llmUsage.costUsd, 0);
  expect(paid).toBeGreaterThan(0);

  const { agentPerformance, capabilityPerformance } = await gql<{
    agentPerformance: Record<string, unknown> & { trend: { runs: number; costUsd: number }[] };
    capabilityPerformance: Record<string, unknown>;
  }>(
    `query($id: ID!) {
      agentPerformance(agentId: $id) {
        runs successes costUsd costPerSuccessUsd trend { runs costUsd }
      }
      capabilityPerformance(name: "sourcing") {
        runs successes costUsd costPerSuccessUsd trend { runs costUsd }
      }
    }`,
    { id: suite.agentId },
  );
  const r = (v: number) => Math.round(v * 1e10) / 1e10;
  expect(agentPerformance).toMatchObject({
    runs: 1,
    costUsd: r(paid),
    costPerSuccessUsd: r(paid),
  });
  expect(capabilityPerformance).toEqual(agentPerformance);
  // Today's bucket holds the one run and the whole spend.
  expect(agentPerformance.trend.at(-1)).toEqual({ runs: 1, costUsd: r(paid) });
});
