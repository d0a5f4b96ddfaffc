import { expect } from 'vitest';
import { agentExecutor } from '../../src/agents/executor.js';
import { createAgentRuntime } from '../../src/agents/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import type { Scheduler } from '../../src/engine/scheduler.js';
import { purposeIn, type Purpose } from '../../src/llm/routing.js';
import { graphql } from '../generated/index.js';
import { startScheduler, waitForWorkflow } from './engine.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './openai-server.js';
import { startTestServer, type TestServer } from './server.js';

// The scripted model and the tenant of agents-openai.int.test.ts: a well-behaved model's answers
// by purpose, a tenant with its agents and a scheduler on ChatOpenAI, and its workflows' totals.

const Submit = graphql(`
  mutation SubmitOpenAIBrief($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

const Details = graphql(`
  query OpenAIWorkflowDetails($id: ID!) {
    llmUsage {
      calls
      promptTokens
      completionTokens
      totalTokens
      costUsd
    }
    workflow(taskId: $id) {
      tasks {
        id
        key
        status
        result
        error
        llmUsage {
          calls
          promptTokens
          completionTokens
          totalTokens
          costUsd
        }
        runs {
          status
          attempt
          error
          startedAt
          endedAt
          llmUsage {
            calls
            promptTokens
            completionTokens
            totalTokens
            costUsd
          }
        }
      }
    }
  }
`);

/** Every scripted answer reports this usage, so totals are exact. */
export const USAGE = { prompt_tokens: 100, completion_tokens: 10 };
/** LLM_PRICES for gpt-4o-mini: USD per 1M tokens. */
const PRICE = { input: 1, output: 2 };
export const usageOf = (calls: number) => ({
  calls,
  promptTokens: calls * USAGE.prompt_tokens,
  completionTokens: calls * USAGE.completion_tokens,
  totalTokens: calls * (USAGE.prompt_tokens + USAGE.completion_tokens),
});
export const costOf = (calls: number) =>
  (calls * (USAGE.prompt_tokens * PRICE.input + USAGE.completion_tokens * PRICE.output)) / 1e6;

export const SYNTHESIS = 'Final brief: the European e-bike market is large and growing fast.';
export const ANSWER = 'Growth is about 10% a year.';
export const QUESTION = 'How fast is the European e-bike market growing?';
export const report = (title: string) => `Report on "${title}": done, with sources.`;
/** The judge's answer for every succeeded operator and synthesis step (issue 12). */
const JUDGEMENT = {
  score: 0.9,
  verdict: 'PASS',
  reasons: ['meets the expected output'],
  feedback: 'Good.',
};

export const step = (key: string, title: string, capability: string, dependsOn: string[]) => ({
  key,
  title,
  instructions: `${title}, thoroughly.`,
  capability,
  dependsOn,
  output: `Notes for ${key}`,
});
const PLAN = {
  steps: [
    step('research', 'Research the market', 'research', []),
    step('write', 'Write the brief', 'writing', ['research']),
  ],
};
export const INVALID_PLAN = { steps: [step('write', 'Write the brief', 'writing', ['nope'])] };

export const text = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');

export const purposeOf = (req: ChatRequest): Purpose | undefined =>
  purposeIn(
    req.messages
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map(text)
      .join('\n'),
  );

/** The step an execution request is about: the title after "Step: " in its first user message. */
export const stepOf = (req: ChatRequest): string =>
  /^Step: (.*)$/m.exec(req.messages.filter((m) => m.role === 'user').map(text)[0] ?? '')?.[1] ?? '';

export const hasToolResults = (req: ChatRequest) => req.messages.some((m) => m.role === 'tool');

/** Answers like a well-behaved model, by what the request is for. */
function happy(req: ChatRequest): Reply {
  const usage = USAGE;
  switch (purposeOf(req)) {
    case 'planning':
      return { json: PLAN, usage };
    case 'execution': {
      const title = stepOf(req);
      if (hasToolResults(req)) return { content: report(title), usage };
      const calls: { name: string; args: object }[] = [
        { name: 'search_knowledge', args: { query: title } },
      ];
      if (title === 'Research the market') {
        calls.push({ name: 'ask_agent', args: { capability: 'analysis', question: QUESTION } });
      }
      return { toolCalls: calls, usage };
    }
    case 'chat':
      return { content: ANSWER, usage };
    case 'extraction':
      return {
        json: {
          items: [
            {
              kind: 'FACT',
              content: `Learned while doing "${stepOf(req) || 'a step'}": e-bikes sell well.`,
              confidence: 0.9,
              tags: ['ebikes'],
            },
          ],
        },
        usage,
      };
    case 'synthesis':
      return { content: SYNTHESIS, usage };
    case 'evaluation':
      return { json: JUDGEMENT, usage };
    default:
      return { status: 400, error: `unexpected request: ${JSON.stringify(req.messages)}` };
  }
}

export type Intercept = (req: ChatRequest, purpose: Purpose | undefined) => Reply | undefined;

export interface Setup {
  server: TestServer;
  scripted: ScriptedOpenAI;
  scheduler: Scheduler;
}

let running: Setup | undefined;

/** Stops what setup() started (the suite's afterEach). */
export async function stopRunning(): Promise<void> {
  if (!running) return;
  const { server, scripted, scheduler } = running;
  running = undefined;
  await scheduler.stop({ abort: true });
  await scripted.close();
  await server.stop();
}

/** A tenant with a CoS and three MOs, the scripted server, and a scheduler on ChatOpenAI. */
export async function setup(intercept?: Intercept): Promise<Setup> {
  const scripted = await startScriptedOpenAI(
    (req) => intercept?.(req, purposeOf(req)) ?? happy(req),
  );
  const server = await startTestServer();
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
    LLM_MAX_RETRIES: '0', // the engine retries, not the client
  });
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm,
    logger: server.logger,
    pubsub: server.pubsub, // steps stream: the real client then streams from the scripted server
  });
  const scheduler = startScheduler(server, agentExecutor(runtime), {
    stepTimeoutMs: 30_000,
    // A lease a loaded machine's heartbeats keep: every step here must run exactly once.
    leaseMs: 10_000,
    backoff: { baseMs: 10, maxMs: 50 },
  });
  running = { server, scripted, scheduler };
  return running;
}

/** The workflow's tasks and the tenant's usage; with `calls`, once the usage counts that many. */
async function detailsOf(server: TestServer, rootId: string, calls?: number) {
  // LLMCallRecorder writes each call in the background (accounting.ts), so the last call's
  // record may land just after its run ended.
  for (let deadline = performance.now() + 5_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const details = await server.gql(Details, { id: rootId });
    expect(details.errors).toBeUndefined();
    if (
      calls === undefined ||
      details.data!.llmUsage.calls >= calls ||
      performance.now() > deadline
    )
      return details;
  }
}

/** How long a submitted workflow may take on a loaded machine. */
const WORKFLOW_MS = 60_000;
// Every test waits for a workflow, then up to 5 s for its usage: far past vitest's 30 s default.
export const waitsForWorkflows = { timeout: 2 * WORKFLOW_MS };

export async function submit(server: TestServer, until: 'COMPLETED' | 'FAILED', calls?: number) {
  const submitted = await server.gql(Submit, {
    input: {
      title: 'Electric bike market brief',
      description: 'Research the European e-bike market, then write a one-page brief.',
    },
  });
  expect(submitted.errors).toBeUndefined();
  const rootId = submitted.data!.submitTask.id;
  await waitForWorkflow(
    server,
    rootId,
    (all) => {
      const root = all.find((t) => t.id === rootId)?.status;
      return root === until || root === 'FAILED' || root === 'CANCELLED';
    },
    WORKFLOW_MS,
  );
  const details = await detailsOf(server, rootId, calls);
  const tasks = details.data!.workflow.tasks;
  const byKey = Object.fromEntries(tasks.map((t) => [t.key ?? 'root', t]));
  return { rootId, tasks, byKey, root: tasks.find((t) => t.id === rootId)!, details };
}

export const count = async (
  server: TestServer,
  cypher: string,
  params: Record<string, unknown> = {},
) => {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );
  return Number(row!.n);
};

export const planningRequests = (s: ScriptedOpenAI) =>
  s.requests.filter((r) => purposeOf(r) === 'planning');
