import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveRunScores } from '../graph/evaluation.repository.js';
import { loadConfig } from '../src/config/config.js';
import { schedulerFromConfig } from '../src/engine/start.js';
import { graphql } from './generated/index.js';
import { budgetedSpender } from './utils/budget-fixtures.js';
import { byKey, startScheduler, waitForWorkflow } from './utils/engine.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const SetBudget = graphql(`
  mutation SetBudget($scope: BudgetScope!, $id: ID, $usd: Float, $tokens: Int) {
    setBudget(scope: $scope, id: $id, usd: $usd, tokens: $tokens) {
      budget {
        scope
        targetId
        usd
        tokens
        spentTokens
      }
      requeued {
        id
        status
      }
    }
  }
`);

const Warnings = graphql(`
  subscription BudgetWarnings {
    budgetWarning {
      scope
      targetId
      unit
      limit
      spent
      share
    }
  }
`);

const BudgetChatTokens = graphql(`
  subscription BudgetChatTokens($agentId: ID) {
    chatTokens(agentId: $agentId) {
      token
      index
      done
      error
    }
  }
`);

/** Every scripted call reports exactly this usage: 900 + 100 = 1000 tokens. */
const USAGE = { prompt_tokens: 900, completion_tokens: 100 };
/** Model calls the test's executor makes per attempt. */
const CALLS = 4;

describe('budgets', { timeout: 120_000 }, () => {
  let server: TestServer;
  let scripted: ScriptedOpenAI;
  beforeAll(async () => {
    server = await startTestServer();
    scripted = await startScriptedOpenAI(() => ({ content: 'spent', usage: USAGE }));
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Spender", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
  });
  afterAll(async () => {
    await server.stop();
    await scripted.close();
  });

  it('stops a step at the model call that would pass its task’s token budget, with BUDGET_EXCEEDED and no retry; raising the budget lets the workflow go on; the warning fires once at 80%', async () => {
    // Four calls of 1000 tokens each; each prompt is a few characters (estimate: 2 tokens).
    const spend = budgetedSpender(server, scripted.baseURL, CALLS);
    const plan = await server.gql(`mutation { createTasks(inputs: [
        { key: "root", title: "Costly brief" },
        { key: "spend", title: "Spend", parentKey: "root", requiredCapabilities: ["research"] }
      ]) { id key } }`);
    expect(plan.errors).toBeUndefined();
    const [root] = (plan.data as { createTasks: { id: string }[] }).createTasks;
    const rootId = root!.id;
    const set = await server.gql(SetBudget, { scope: 'TASK', id: rootId, tokens: 2500 });
    expect(set.errors).toBeUndefined();
    expect(set.data!.setBudget.budget).toEqual({
      scope: 'TASK',
      targetId: rootId,
      usd: null,
      tokens: 2500,
      spentTokens: 0,
    });
    await server.gql(`mutation { startWorkflow(taskId: "${rootId}") { id } }`);

    const warnings = await subscribe(server, Warnings);
    const scheduler = startScheduler(server, spend);
    try {
      // 0, 1000, 2000 spent before calls 1 to 3: each fits; before call 4, 3000 + 2 > 2500.
      const waiting = await waitForWorkflow(
        server,
        rootId,
        (tasks) =>
          ['AWAITING_APPROVAL', 'FAILED', 'COMPLETED'].includes(byKey(tasks).spend?.status ?? ''),
        60_000,
      );
      const step = byKey(waiting).spend!;
      expect(step.status).toBe('AWAITING_APPROVAL');
      expect(step.error).toMatch(/^BUDGET_EXCEEDED: the task budget of 2500 tokens/);
      expect(step.error).toContain('spent 3000 tokens');
      expect(step.runs).toHaveLength(1); // not retried
      expect(step.runs[0]!.status).toBe('INTERRUPTED');
      // A spent budget is nobody's fault in the step: the run is not judged, so no score of 0
      // reaches the agent's record, its lessons or its version's canary (issue 12).
      const runIds = await server.graph.read(async (tx) =>
        (
          await tx.run<{ id: string }>({
            cypher: 'MATCH (:Task {id: $id})<-[:OF]-(r:Run) RETURN r.id AS id',
            params: { id: step.id },
          })
        ).map((r) => r.id),
      );
      expect(runIds).toHaveLength(1);
      const judged = await server.graph.read((tx) =>
        effectiveRunScores(tx, server.tenantId, runIds),
      );
      expect(judged.size).toBe(0);
      expect(byKey(waiting).root!.status).toBe('IN_PROGRESS'); // the workflow waits
      expect(scripted.requests).toHaveLength(3); // the refused call never reached the model

      // The warning: once, when 2000 of 2500 (80%) were spent, before call 3.
      const warning = (await warnings.waitForNext(10_000)).data!.budgetWarning;
      expect(warning).toEqual({
        scope: 'TASK',
        targetId: rootId,
        unit: 'TOKENS',
        limit: 2500,
        spent: 2000,
        share: 0.8,
      });

      // Raising the budget re-queues the step; it runs again (4 more calls) and the root ends.
      const raised = await server.gql(SetBudget, { scope: 'TASK', id: rootId, tokens: 10_000 });
      expect(raised.errors).toBeUndefined();
      expect(raised.data!.setBudget.requeued).toEqual([{ id: step.id, status: 'READY' }]);
      expect(raised.data!.setBudget.budget.spentTokens).toBe(3000);
      const done = await waitForWorkflow(
        server,
        rootId,
        (tasks) =>
          byKey(tasks).root?.status === 'COMPLETED' || byKey(tasks).root?.status === 'FAILED',
        60_000,
      );
      expect(byKey(done).root!.status).toBe('COMPLETED');
      expect(byKey(done).spend!.status).toBe('COMPLETED');
      expect(scripted.requests).toHaveLength(3 + CALLS);

      // No second warning for the task (7000 of 10000 is under 80%): silence until a control,
      // a tenant warning from a chat turn once the tenant's budget is 7000 tokens.
      const control = async () => {
        const t = await server.gql(SetBudget, { scope: 'TENANT', tokens: 7000 });
        expect(t.errors).toBeUndefined();
        const agent = await server.gql(`{ agents(first: 1) { edges { node { id } } } }`);
        const agentId = (agent.data as { agents: { edges: { node: { id: string } }[] } }).agents
          .edges[0]!.node.id;
        await server.gql(`mutation { chat(agentId: "${agentId}", message: "hi") { replyId } }`);
      };
      const heard = await warnings.heardBefore(
        control,
        (e) => e.data?.budgetWarning.scope === 'TENANT',
        20_000,
      );
      expect(heard).toEqual([]);
    } finally {
      await scheduler.stop({ abort: true });
      await warnings.close();
      await server.services.chat.idle();
    }
  });

  it('refuses a chat turn’s model call once the tenant’s budget is spent, and says so on chatTokens', async () => {
    // The tenant's budget was left at 7000 tokens, all spent, by the test above.
    const agent = await server.gql(`{ agents(first: 1) { edges { node { id } } } }`);
    const agentId = (agent.data as { agents: { edges: { node: { id: string } }[] } }).agents
      .edges[0]!.node.id;
    const tokens = await subscribe(server, BudgetChatTokens, { agentId });
    let closing;
    const res = await server.gql(
      `mutation { chat(agentId: "${agentId}", message: "one more") { replyId } }`,
    );
    try {
      expect(res.errors).toBeUndefined();
      closing = (await tokens.waitForNext(20_000)).data!.chatTokens;
    } finally {
      await tokens.close();
    }
    expect(closing).toMatchObject({ done: true, index: -1 });
    expect(closing.error).toMatch(/^BUDGET_EXCEEDED: the tenant budget of 7000 tokens/);
    await server.services.chat.idle();
    const [row] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: 'MATCH (m:Message {tenantId: $t, id: $id}) RETURN count(m) AS n',
        params: {
          t: server.tenantId,
          id: (res.data as { chat: { replyId: string } }).chat.replyId,
        },
      }),
    );
    expect(row!.n).toBe(0); // no reply stored
  });

  it('reads what an agent and the tenant have spent from the same totals as llmUsage', async () => {
    const res = await server.gql(`{
      agents(first: 1) { edges { node { id llmUsage { totalTokens costUsd } } } }
      llmUsage { totalTokens costUsd }
      tenant: budget(scope: TENANT) { scope tokens spentTokens spentUsd }
    }`);
    expect(res.errors).toBeUndefined();
    type Usage = { totalTokens: number; costUsd: number };
    const data = res.data as {
      agents: { edges: { node: { id: string; llmUsage: Usage } }[] };
      llmUsage: Usage;
      tenant: { scope: string; tokens: number; spentTokens: number; spentUsd: number };
    };
    const spender = data.agents.edges[0]!.node;
    // 3 calls before the stop, 4 after the raise, 1000 tokens each; refused calls cost nothing.
    expect(spender.llmUsage.totalTokens).toBe(7000);
    expect(data.tenant).toMatchObject({ scope: 'TENANT', tokens: 7000, spentTokens: 7000 });
    expect(data.tenant.spentUsd).toBeCloseTo(data.llmUsage.costUsd, 10);
    const agent = await server.gql(
      `query($id: ID) { budget(scope: AGENT, id: $id) { targetId tokens usd spentTokens spentUsd } }`,
      { id: spender.id } as never,
    );
    expect(agent.errors).toBeUndefined();
    const budget = (agent.data as { budget: Record<string, unknown> }).budget;
    expect(budget).toMatchObject({
      targetId: spender.id,
      tokens: null,
      usd: null,
      spentTokens: 7000,
    });
    expect(budget.spentUsd as number).toBeCloseTo(spender.llmUsage.costUsd, 10);
  });

  it('holds a submitted task at the default BUDGET_TASK_TOKENS through npm start’s wiring, and lifting the limit lets the agents finish', async () => {
    const other = await startTestServer();
    try {
      const agents = await other.gql(`mutation { createAgents(inputs: [
        { name: "Chief", role: CHIEF_OF_STAFF },
        { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
        { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
      ]) { id } }`);
      expect(agents.errors).toBeUndefined();
      // The offline model and the agents, as src/cli/main.ts builds them, with a 1-token default.
      const config = loadConfig({ ENGINE_POLL_MS: '20', BUDGET_TASK_TOKENS: '1' });
      const scheduler = schedulerFromConfig(config, {
        uow: other.services.uow,
        logger: other.logger,
        pubsub: other.pubsub,
        tenantIds: [other.tenantId],
      });
      scheduler.start();
      try {
        const submitted = await other.gql(
          `mutation { submitTask(input: { title: "Brief", description: "Research the market for electric bikes." }) { id } }`,
        );
        expect(submitted.errors).toBeUndefined();
        const rootId = (submitted.data as { submitTask: { id: string } }).submitTask.id;
        const held = await waitForWorkflow(
          other,
          rootId,
          (tasks) =>
            ['AWAITING_APPROVAL', 'FAILED'].includes(
              tasks.find((t) => t.id === rootId)?.status ?? '',
            ),
          60_000,
        );
        const root = held.find((t) => t.id === rootId)!;
        expect(root.status).toBe('AWAITING_APPROVAL');
        expect(root.error).toMatch(/^BUDGET_EXCEEDED: the task budget of 1 tokens/);
        expect(held).toHaveLength(1); // no plan was written

        const lifted = await other.gql(SetBudget, { scope: 'TASK', id: rootId, tokens: null });
        expect(lifted.errors).toBeUndefined();
        expect(lifted.data!.setBudget.budget.tokens).toBeNull();
        const done = await waitForWorkflow(
          other,
          rootId,
          (tasks) =>
            ['COMPLETED', 'FAILED'].includes(tasks.find((t) => t.id === rootId)?.status ?? ''),
          90_000,
        );
        expect(done.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
      } finally {
        await scheduler.stop({ abort: true });
      }
    } finally {
      await other.stop();
    }
  });

  it('lets only an ADMIN set a budget, and only for a root task of the tenant', async () => {
    const operator = await server.keyFor('OPERATOR' as never);
    const refused = await server.gql(
      SetBudget,
      { scope: 'TENANT', tokens: 1 },
      { authorization: `Bearer ${operator}` },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await server.gql(SetBudget, {
      scope: 'TASK',
      id: '00000000-0000-4000-8000-000000000000',
      tokens: 1,
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const negative = await server.gql(SetBudget, { scope: 'TENANT', usd: -1 });
    expect(negative.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(negative.errors?.[0]?.message).toContain('usd must be a number >= 0');
    // An agent's or a task's budget named without its id: what is missing, not an empty id.
    for (const [scope, what] of [
      ['AGENT', 'the agent'],
      ['TASK', 'the root task'],
    ] as const) {
      const unnamed = await server.gql(`{ budget(scope: ${scope}) { tokens } }`);
      expect(unnamed.errors?.[0]).toMatchObject({
        message: `budget with scope ${scope} needs the id of ${what}`,
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  });
});
