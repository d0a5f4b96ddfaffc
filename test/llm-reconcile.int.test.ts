import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { purposeIn } from '../src/llm/routing.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 10, "Cost accounting": every figure reconciles. A workflow on the real ChatOpenAI client
// against the scripted server, where every answer reports the same usage: runs sum to their
// task, tasks to the root's subtree and to the tenant, agents to the tenant; ask_agent's answer
// is booked on the asker's run and attributed to the expert; HAS_CAPABILITY.avgCostUsd is kept.

const USAGE = { prompt_tokens: 100, completion_tokens: 10 };
const PRICE = { input: 1, output: 2 };
/** USD of one call: (100 × 1 + 10 × 2) / 1e6. */
const CALL_USD = 0.00012;

const text = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
const purposeOf = (req: ChatRequest) =>
  purposeIn(
    req.messages
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map(text)
      .join('\n'),
  );
const stepOf = (req: ChatRequest): string =>
  /^Step: (.*)$/m.exec(req.messages.filter((m) => m.role === 'user').map(text)[0] ?? '')?.[1] ?? '';

const step = (key: string, title: string, capability: string, dependsOn: string[]) => ({
  key,
  title,
  instructions: `${title}.`,
  capability,
  dependsOn,
  output: `Notes for ${key}`,
  condition: null,
});
const PLAN = {
  steps: [
    step('research', 'Research the market', 'research', []),
    step('write', 'Write the brief', 'writing', ['research']),
  ],
};

function answer(req: ChatRequest): Reply {
  const usage = USAGE;
  switch (purposeOf(req)) {
    case 'planning':
      return { json: PLAN, usage };
    case 'execution': {
      if (req.messages.some((m) => m.role === 'tool')) return { content: 'Done.', usage };
      const ask = stepOf(req) === 'Research the market';
      return {
        toolCalls: ask
          ? [{ name: 'ask_agent', args: { capability: 'analysis', question: 'How big?' } }]
          : [{ name: 'search_knowledge', args: { query: 'brief' } }],
        usage,
      };
    }
    case 'chat':
      return { content: 'Big.', usage };
    case 'extraction':
      return { json: { items: [] }, usage };
    case 'synthesis':
      return { content: 'The brief.', usage };
    case 'evaluation':
      return { json: { score: 0.9, verdict: 'PASS', reasons: ['done'], feedback: 'Good.' }, usage };
    default:
      return { content: 'ok', usage };
  }
}

const USAGE_FIELDS = 'calls promptTokens completionTokens totalTokens costUsd unpricedCalls';
type Usage = {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  unpricedCalls: number;
};

const sum = (usages: Usage[]): Usage =>
  usages.reduce(
    (a, u) => ({
      calls: a.calls + u.calls,
      promptTokens: a.promptTokens + u.promptTokens,
      completionTokens: a.completionTokens + u.completionTokens,
      totalTokens: a.totalTokens + u.totalTokens,
      costUsd: Math.round((a.costUsd + u.costUsd) * 1e10) / 1e10,
      unpricedCalls: a.unpricedCalls + u.unpricedCalls,
    }),
    {
      calls: 0,
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      costUsd: 0,
      unpricedCalls: 0,
    },
  );

const exactly = (calls: number): Usage => ({
  calls,
  promptTokens: calls * USAGE.prompt_tokens,
  completionTokens: calls * USAGE.completion_tokens,
  totalTokens: calls * (USAGE.prompt_tokens + USAGE.completion_tokens),
  costUsd: Math.round(calls * CALL_USD * 1e10) / 1e10,
  unpricedCalls: 0,
});

describe('cost accounting reconciles', { timeout: 120_000 }, () => {
  let server: TestServer;
  let scripted: ScriptedOpenAI;
  let scheduler: Scheduler;

  beforeAll(async () => {
    scripted = await startScriptedOpenAI(answer);
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const { llm } = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_PRICES: JSON.stringify({ 'gpt-4o-mini': PRICE }),
      LLM_MAX_RETRIES: '0',
    });
    const runtime = createAgentRuntime({ uow: server.services.uow, llm, logger: server.logger });
    scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      // A lease a loaded machine's heartbeats keep: every step here must run exactly once.
      leaseMs: 10_000,
      backoff: { baseMs: 10, maxMs: 50 },
    });
  });
  afterAll(async () => {
    await scheduler?.stop({ abort: true });
    await scripted?.close();
    await server?.stop();
  });

  it('sums runs to tasks, tasks to the root and the tenant, agents to the tenant, to the token', async () => {
    const submitted = await server.gql(
      `mutation { submitTask(input: { title: "E-bike brief", description: "Research, then write." }) { id } }`,
    );
    expect(submitted.errors).toBeUndefined();
    const rootId = (submitted.data as { submitTask: { id: string } }).submitTask.id;
    await waitForWorkflow(
      server,
      rootId,
      (tasks) => ['COMPLETED', 'FAILED'].includes(tasks.find((t) => t.id === rootId)!.status),
      90_000,
    );

    const res = await server.gql(
      `query($id: ID!) {
        llmUsage { ${USAGE_FIELDS} }
        task(id: $id) { status llmUsage(scope: SUBTREE) { ${USAGE_FIELDS} } }
        workflow(taskId: $id) { tasks { id key llmUsage { ${USAGE_FIELDS} }
          runs { id agent { name } llmUsage { ${USAGE_FIELDS} } } } }
        agents(first: 100) { nodes { id name llmUsage { ${USAGE_FIELDS} }
          capabilities { name runs avgCostUsd } } }
      }`,
      { id: rootId } as never,
    );
    expect(res.errors).toBeUndefined();
    type Run = { id: string; agent: { name: string } | null; llmUsage: Usage };
    type Task = { id: string; key: string | null; llmUsage: Usage; runs: Run[] };
    type Agent = {
      id: string;
      name: string;
      llmUsage: Usage;
      capabilities: { name: string; runs: number; avgCostUsd: number }[];
    };
    const data = res.data as {
      llmUsage: Usage;
      task: { status: string; llmUsage: Usage };
      workflow: { tasks: Task[] };
      agents: { nodes: Agent[] };
    };
    expect(data.task.status).toBe('COMPLETED');
    const tasks = data.workflow.tasks;
    const byKey = Object.fromEntries(tasks.map((t) => [t.key ?? 'root', t]));

    // Calls: plan 1; research: execution, the Analyst's answer, execution, extraction, the
    // judge = 5; write: execution x2 + extraction + judge = 4; synthesis + judge = 2. Each
    // exactly USAGE, priced.
    const tenant = data.llmUsage;
    expect(tenant).toEqual(exactly(12));
    for (const t of tasks)
      expect(sum(t.runs.map((r) => r.llmUsage)), t.key ?? 'root').toEqual(t.llmUsage);
    expect(sum(tasks.map((t) => t.llmUsage))).toEqual(tenant);
    expect(data.task.llmUsage).toEqual(tenant);
    expect(sum(data.agents.nodes.map((a) => a.llmUsage))).toEqual(tenant);

    // ask_agent: the Analyst's answer is on the Researcher's run, and in the Analyst's total.
    const agent = (name: string) => data.agents.nodes.find((a) => a.name === name)!;
    expect(byKey.research!.runs).toHaveLength(1);
    expect(byKey.research!.runs[0]!.llmUsage).toEqual(exactly(5));
    expect(agent('Analyst').llmUsage).toEqual(exactly(1));
    expect(agent('Researcher').llmUsage).toEqual(exactly(4));
    const [asked] = await server.graph.read((tx) =>
      tx.run<{ runId: string; agentId: string }>({
        cypher: `MATCH (r:Run)-[:CALLED]->(c:LLMCall {tenantId: $tenantId, purpose: 'chat'})
                 RETURN r.id AS runId, c.agentId AS agentId`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(asked).toEqual({ runId: byKey.research!.runs[0]!.id, agentId: agent('Analyst').id });

    // HAS_CAPABILITY.avgCostUsd: the cost of the run that used the capability.
    const capability = (name: string, cap: string) =>
      agent(name).capabilities.find((c) => c.name === cap)!;
    expect(capability('Researcher', 'research')).toMatchObject({ runs: 1 });
    expect(capability('Researcher', 'research').avgCostUsd).toBeCloseTo(5 * CALL_USD, 12);
    expect(capability('Writer', 'writing').avgCostUsd).toBeCloseTo(4 * CALL_USD, 12);
  });
});
