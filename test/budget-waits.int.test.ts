import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { recordLLMCall } from '../graph/llm-call.repository.js';
import { budgetedSpender, spenderSuite } from './utils/budget-fixtures.js';
import { byKey, startScheduler, waitForWorkflow } from './utils/engine.js';

/**
 * A step a spent budget stops waits: nobody's fault in the step. However often a person tries
 * it again with approveTask before raising the budget, the refused attempts are not counted
 * (no "attempt 4 of 3", no retries held against the task) and their runs are not the agent's
 * failures (agentPerformance), as setBudget's re-queue already did.
 */
const suite = spenderSuite('Spender', 'research', { prompt_tokens: 90, completion_tokens: 10 });
const { gql } = suite;

type Evaluated = { evaluations: { source: string; reasons: string[] }[] };

it('does not count the attempts a spent budget refused, whoever tries the step again', async () => {
  const spend = budgetedSpender(suite.server, suite.scripted.baseURL, 1);
  const plan = await gql<{ createTasks: { id: string }[] }>(`mutation { createTasks(inputs: [
      { key: "root", title: "Held by its budget" },
      { key: "spend", title: "Spend", parentKey: "root", requiredCapabilities: ["research"] }
    ]) { id key } }`);
  const rootId = plan.createTasks[0]!.id;
  await gql(
    `mutation($id: ID) { setBudget(scope: AGENT, id: $id, tokens: 0) { budget { tokens } } }`,
    {
      id: suite.agentId,
    },
  );
  await gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, { id: rootId });
  const scheduler = startScheduler(suite.server, spend);
  let stepId: string;
  try {
    const refusedRuns = (n: number) =>
      waitForWorkflow(suite.server, rootId, (tasks) => {
        const step = byKey(tasks).spend!;
        return step.status === 'AWAITING_APPROVAL' && step.runs.length === n;
      });
    let step = byKey(await refusedRuns(1)).spend!;
    // Three times a person says "try again" while the budget is still spent.
    for (let n = 2; n <= 4; n++) {
      await gql(`mutation($id: ID!) { approveTask(id: $id) { id } }`, { id: step.id });
      step = byKey(await refusedRuns(n)).spend!;
      expect(step.error).toMatch(/^BUDGET_EXCEEDED/);
    }
    stepId = step.id;
    expect(step.attempts).toBe(1);
    expect(step.runs.map((r) => r.status)).toEqual(Array(4).fill('INTERRUPTED'));

    await gql(
      `mutation($id: ID) { setBudget(scope: AGENT, id: $id, tokens: null) { budget { tokens } } }`,
      {
        id: suite.agentId,
      },
    );
    const done = await waitForWorkflow(suite.server, rootId, (tasks) =>
      ['COMPLETED', 'FAILED'].includes(byKey(tasks).root!.status),
    );
    expect(byKey(done).root!.status).toBe('COMPLETED');
    expect(byKey(done).spend!.attempts).toBe(1);
  } finally {
    await scheduler.stop({ abort: true });
  }
  const { task: root } = await gql<{ task: Evaluated }>(
    `query($id: ID!) { task(id: $id) { evaluations { source reasons } } }`,
    { id: rootId },
  );
  expect(root.evaluations.find((e) => e.source === 'OBJECTIVE')!.reasons).toContain(
    '0 retried attempt(s) across the steps',
  );
  const { task: spent } = await gql<{ task: { runs: ({ status: string } & Evaluated)[] } }>(
    `query($id: ID!) { task(id: $id) { runs { status evaluations { source reasons } } } }`,
    { id: stepId },
  );
  const succeeded = spent.runs.find((r) => r.status === 'SUCCEEDED')!;
  const objective = succeeded.evaluations.find((e) => e.source === 'OBJECTIVE')!;
  expect(objective.reasons.join('\n')).toMatch(/attempt 1 of 3/);
  // The agent's record holds its one real run, not the four the budget stopped.
  const perf = await gql<{ agentPerformance: { runs: number } }>(
    `query($id: ID!) { agentPerformance(agentId: $id) { runs } }`,
    { id: suite.agentId },
  );
  expect(perf.agentPerformance).toEqual({ runs: 1 });
});

it('marks a call recorded after a budget stopped its attempt abandoned, as the calls before it', async () => {
  const [budgetRun, heldRun] = [randomUUID(), randomUUID()];
  await suite.server.graph.write((tx) =>
    tx.run({
      cypher: `CREATE (:Run {id: $budgetRun, tenantId: $tenantId, status: 'INTERRUPTED',
                             error: 'BUDGET_EXCEEDED: the task budget of 1 tokens …'}),
                      (:Run {id: $heldRun, tenantId: $tenantId, status: 'INTERRUPTED',
                             error: 'waiting for a person to decide 1 tool call(s)'})`,
      params: { budgetRun, heldRun, tenantId: suite.server.tenantId },
    }),
  );
  // A parallel call (ask_agent's, say) that answered after the attempt had ended.
  for (const runId of [budgetRun, heldRun]) {
    await suite.server.graph.write((tx) =>
      recordLLMCall(tx, {
        id: `late-${runId}`,
        tenantId: suite.server.tenantId,
        provider: 'openai',
        model: 'gpt-4o-mini',
        responseModel: null,
        purpose: 'execution',
        promptTokens: 10,
        cachedPromptTokens: 0,
        completionTokens: 1,
        totalTokens: 11,
        costUsd: 0,
        priced: true,
        latencyMs: 5,
        error: null,
        runId,
        taskId: null,
        agentId: null,
      }),
    );
  }
  const abandoned = await suite.server.graph.read((tx) =>
    tx.run<{ runId: string; abandoned: boolean | null }>({
      cypher: `MATCH (c:LLMCall) WHERE c.id IN $ids RETURN c.runId AS runId, c.abandoned AS abandoned`,
      params: { ids: [`late-${budgetRun}`, `late-${heldRun}`] },
    }),
  );
  // Nor is an interrupted attempt rated: it has no outcome, and the message says which have.
  const rated = await suite.server.gql(
    `mutation($id: ID!) { rateRun(runId: $id, score: 0.1) { id } }`,
    {
      id: budgetRun,
    } as never,
  );
  expect(rated.errors?.[0]?.message).toBe(
    'A run can be rated once it has ended with an outcome (SUCCEEDED, FAILED, CANCELLED, ABORTED or ABANDONED), but this one is INTERRUPTED',
  );
  // A held attempt's calls are kept by its checkpoint for the resume: not waste.
  expect(Object.fromEntries(abandoned.map((r) => [r.runId, r.abandoned]))).toEqual({
    [budgetRun]: true,
    [heldRun]: null,
  });
});
