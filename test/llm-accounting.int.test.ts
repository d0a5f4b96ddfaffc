import { randomUUID } from 'node:crypto';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMCallRecorder } from '../src/llm/accounting.js';
import { llmEnvSchema, llmFromEnv, type LlmConfig } from '../src/llm/config.js';
import { createChatModel, describeModel } from '../src/llm/models.js';
import { costUsd } from '../src/llm/pricing.js';
import type { ModelRequest } from '../src/llm/routing.js';
import { graphql } from './generated/index.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';

const CreateAgent = graphql(`
  mutation AccountingCreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      id
    }
  }
`);

const CreateTask = graphql(`
  mutation AccountingCreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
    }
  }
`);

const UsageFields = graphql(`
  fragment UsageFields on LLMUsage {
    calls
    promptTokens
    cachedPromptTokens
    completionTokens
    totalTokens
    costUsd
    unpricedCalls
  }
`);

const Usage = graphql(`
  query AccountingUsage($taskId: ID!, $agentId: ID!) {
    llmUsage {
      ...UsageFields
    }
    task(id: $taskId) {
      llmUsage {
        ...UsageFields
      }
      runs {
        id
        llmUsage {
          ...UsageFields
        }
      }
    }
    agent(id: $agentId) {
      llmUsage {
        ...UsageFields
      }
    }
  }
`);

const TenantUsage = graphql(`
  query AccountingTenantUsage {
    llmUsage {
      ...UsageFields
    }
  }
`);

// A price of our own for the scripted model, so the expected cost comes from this table.
const PRICE = { input: 1, output: 2 };
const request: ModelRequest = { purpose: 'execution' };

describe('model call accounting', () => {
  let server: TestServer;
  let openai: ScriptedOpenAI;
  let llm: LlmConfig;
  let agentId: string;
  let taskId: string;
  const runId = randomUUID();

  const recorder = (config: LlmConfig, ids: { runId?: string; purpose?: string } = {}) =>
    new LLMCallRecorder({
      store: server.graph,
      tenantId: server.tenantId,
      purpose: ids.purpose ?? request.purpose,
      runId: ids.runId,
      prices: config.prices,
      describe: describeModel(request, config),
    });

  const callsOf = (where: Record<string, string>) =>
    server.graph.read((tx) =>
      tx.run<{ c: Record<string, unknown> }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId}) WHERE c.purpose = $purpose
                 RETURN properties(c) AS c`,
        params: { tenantId: server.tenantId, ...where },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    openai = await startScriptedOpenAI();
    llm = llmFromEnv(
      llmEnvSchema.parse({
        LLM_PROVIDER: 'compatible',
        LLM_BASE_URL: openai.baseURL,
        LLM_MODEL: 'gpt-4o-mini',
        LLM_PRICES: JSON.stringify({ 'gpt-4o-mini': PRICE }),
      }),
    );
    const agent = await server.gql(CreateAgent, {
      input: { name: `accountant-${randomUUID()}`, role: 'MASTER_OPERATOR' as never },
    });
    agentId = agent.data!.createAgent.id;
    const task = await server.gql(CreateTask, { input: { title: 'Count the tokens' } });
    taskId = task.data!.createTask.id;
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId})
          CREATE (r:Run {id: $runId, tenantId: $tenantId, status: 'RUNNING', attempt: 1,
                         startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
          CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)`,
        params: { tenantId: server.tenantId, taskId, agentId, runId },
      }),
    );
  });
  afterAll(async () => {
    await openai?.close();
    await server?.stop();
  });

  it('sums two calls of the real ChatOpenAI client per run, task, agent and tenant', async () => {
    openai.enqueue(
      { content: 'first', usage: { prompt_tokens: 120, completion_tokens: 30 } },
      { content: 'second', usage: { prompt_tokens: 80, completion_tokens: 20 } },
    );
    const rec = recorder(llm, { runId });
    const model = createChatModel(request, llm, [rec]);
    await model.invoke([new SystemMessage('You execute steps.'), new HumanMessage('Go')]);
    await model.invoke('Again');
    await rec.flush();

    const cost =
      costUsd('gpt-4o-mini', 120, 30, llm.prices).costUsd +
      costUsd('gpt-4o-mini', 80, 20, llm.prices).costUsd;
    const expected = {
      calls: 2,
      promptTokens: 200,
      cachedPromptTokens: 0,
      completionTokens: 50,
      totalTokens: 250,
      costUsd: Math.round(cost * 1e10) / 1e10,
      unpricedCalls: 0,
    };
    expect(expected.costUsd).toBe(0.0003);

    const res = await server.gql(Usage, { taskId, agentId });
    expect(res.errors).toBeUndefined();
    expect(res.data!.llmUsage).toEqual(expected);
    expect(res.data!.task.llmUsage).toEqual(expected);
    expect(res.data!.task.runs).toEqual([{ id: runId, llmUsage: expected }]);
    expect(res.data!.agent.llmUsage).toEqual(expected);

    const [linked] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (:Run {tenantId: $tenantId, id: $runId})-[:CALLED]->(c:LLMCall)
                 RETURN count(c) AS n`,
        params: { tenantId: server.tenantId, runId },
      }),
    );
    expect(linked?.n).toBe(2);
    const calls = await callsOf({ purpose: 'execution' });
    expect(
      calls.map((r) => r.c).sort((a, b) => Number(b.promptTokens) - Number(a.promptTokens)),
    ).toMatchObject([
      {
        provider: 'compatible',
        model: 'gpt-4o-mini',
        responseModel: 'gpt-4o-mini',
        promptTokens: 120,
        cachedPromptTokens: 0,
        completionTokens: 30,
        totalTokens: 150,
        costUsd: 0.00018,
        priced: true,
        runId,
        taskId,
        agentId,
      },
      { promptTokens: 80, completionTokens: 20, costUsd: 0.00012, priced: true },
    ]);
    for (const { c } of calls) {
      expect(c.latencyMs).toBeGreaterThanOrEqual(0);
      expect(c.error, 'a null error is not stored').toBeUndefined();
    }
  });

  it('records a failed call with its error and zero tokens', async () => {
    openai.enqueue({ status: 500, error: 'boom' });
    const rec = recorder(llm, { purpose: 'evaluation' });
    await expect(createChatModel(request, llm, [rec]).invoke('hi')).rejects.toMatchObject({
      status: 500,
    });
    await rec.flush();

    const calls = await callsOf({ purpose: 'evaluation' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.c).toMatchObject({
      provider: 'compatible',
      model: 'gpt-4o-mini',
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      costUsd: 0,
      error: expect.stringContaining('boom'),
    });
    const res = await server.gql(TenantUsage);
    expect(res.data!.llmUsage).toMatchObject({ calls: 3, totalTokens: 250 });
  });

  it('records an offline call as provider offline, model offline/deterministic-v1, cost 0', async () => {
    const offline = llmFromEnv(llmEnvSchema.parse({}));
    expect(offline.provider).toBe('offline');
    const rec = recorder(offline, { purpose: 'chat' });
    await createChatModel({ purpose: 'chat' }, offline, [rec]).invoke('Hello offline model');
    await rec.flush();

    const calls = await callsOf({ purpose: 'chat' });
    expect(calls).toHaveLength(1);
    const c = calls[0]!.c;
    expect(c).toMatchObject({
      provider: 'offline',
      model: 'offline/deterministic-v1',
      costUsd: 0,
      priced: true,
    });
    expect(c.promptTokens).toBeGreaterThan(0);
    expect(c.totalTokens).toBe(Number(c.promptTokens) + Number(c.completionTokens));
  });

  it("shows another tenant none of this tenant's calls", async () => {
    const other = await startTestServer();
    try {
      const res = await other.gql(TenantUsage);
      expect(res.data!.llmUsage).toEqual({
        calls: 0,
        promptTokens: 0,
        cachedPromptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        costUsd: 0,
        unpricedCalls: 0,
      });
      // This tenant's run, named by the other tenant's recorder, is not linked to its call.
      const rec = new LLMCallRecorder({
        store: other.graph,
        tenantId: other.tenantId,
        purpose: 'chat',
        runId,
        prices: llm.prices,
        describe: { provider: 'offline', model: 'offline' },
      });
      const offline = llmFromEnv(llmEnvSchema.parse({}));
      await createChatModel({ purpose: 'chat' }, offline, [rec]).invoke('hi');
      await rec.flush();
      expect((await other.gql(TenantUsage)).data!.llmUsage.calls).toBe(1);
      const mine = await server.gql(Usage, { taskId, agentId });
      expect(mine.data!.task.runs[0]!.llmUsage.calls).toBe(2);
    } finally {
      await other.stop();
    }
  });
});
