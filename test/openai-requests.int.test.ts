import { afterEach, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { purposeIn, type Purpose } from '../src/llm/routing.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { assertProviderRequest } from './utils/strict-schema.js';

// Every request body a whole workflow sends (planning, execution with tools, ask_agent's chat,
// extraction, synthesis), as the scripted OpenAI server received it, held against what OpenAI
// itself accepts (issue 10, "Real models").

const USAGE = { prompt_tokens: 100, completion_tokens: 10 };
const SYNTHESIS = 'Final brief: e-bikes sell.';
const REPORT = 'Report: e-bike sales grew 10% last year.';

const text = (m: ChatMessage | undefined): string =>
  typeof m?.content === 'string' ? m.content : (m?.content ?? []).map((p) => p.text ?? '').join('');
const purposeOf = (req: ChatRequest): Purpose | undefined =>
  purposeIn(
    req.messages
      .filter((m) => m.role === 'system')
      .map(text)
      .join('\n'),
  );
const hasToolResults = (req: ChatRequest) => req.messages.some((m) => m.role === 'tool');

const step = (key: string, title: string, capability: string, dependsOn: string[]) => ({
  key,
  title,
  instructions: `${title}, thoroughly.`,
  capability,
  dependsOn,
  condition: null,
  output: `Notes for ${key}`,
});
const PLAN = { steps: [step('research', 'Research the market', 'research', [])] };

/** A weak local model: it writes its tool call as text, in a json fence, once per step. */
function weakModel(req: ChatRequest): Reply {
  switch (purposeOf(req)) {
    case 'planning':
      return { json: PLAN, usage: USAGE };
    case 'execution':
      if (hasToolResults(req)) return { content: REPORT, usage: USAGE };
      return {
        content:
          '```json\n{"name": "search_knowledge", "arguments": {"query": "e-bike market"}}\n```',
        usage: USAGE,
      };
    case 'extraction':
      return {
        json: {
          items: [
            { kind: 'FACT', content: 'E-bikes sell well.', confidence: 0.9, tags: ['ebikes'] },
          ],
        },
        usage: USAGE,
      };
    case 'synthesis':
      return { content: SYNTHESIS, usage: USAGE };
    case 'evaluation':
      return {
        json: { score: 0.8, verdict: 'PASS', reasons: ['covers the market'], feedback: 'Fine.' },
        usage: USAGE,
      };
    default:
      return { content: 'An answer.', usage: USAGE };
  }
}

let running: { server: TestServer; scripted: ScriptedOpenAI; scheduler: Scheduler } | undefined;
afterEach(async () => {
  if (!running) return;
  const { server, scripted, scheduler } = running;
  running = undefined;
  await scheduler.stop({ abort: true });
  await scripted.close();
  await server.stop();
});

async function setup() {
  forgetStructuredModes();
  const scripted = await startScriptedOpenAI(weakModel);
  const server = await startTestServer();
  const res = await server.gql(`mutation { createAgents(inputs: [
    { name: "Chief", role: CHIEF_OF_STAFF },
    { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] }
  ]) { id } }`);
  expect(res.errors).toBeUndefined();
  const { llm } = loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'qwen2.5-3b-instruct',
    LLM_MAX_RETRIES: '0',
  });
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm,
    logger: server.logger,
    pubsub: server.pubsub,
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

const WORKFLOW_MS = 60_000;

describe(
  'the requests a workflow sends to an OpenAI-compatible server',
  { timeout: 2 * WORKFLOW_MS },
  () => {
    it('runs a tool call a weak model wrote as text, and every request is valid under OpenAI strict rules', async () => {
      const { server, scripted } = await setup();
      const submitted = await server.gql(
        `mutation { submitTask(input: { title: "E-bike brief", description: "Research the e-bike market." }) { id } }`,
      );
      expect(submitted.errors).toBeUndefined();
      const rootId = (submitted.data as { submitTask: { id: string } }).submitTask.id;
      const tasks = await waitForWorkflow(
        server,
        rootId,
        (all) => ['COMPLETED', 'FAILED'].includes(all.find((t) => t.id === rootId)?.status ?? ''),
        WORKFLOW_MS,
      );
      const research = tasks.find((t) => t.key === 'research');
      // Before: the step COMPLETED with the text of its tool call as its report.
      expect(research).toMatchObject({ status: 'COMPLETED', result: REPORT });
      expect(tasks.find((t) => t.id === rootId)).toMatchObject({
        status: 'COMPLETED',
        result: SYNTHESIS,
      });
      const execution = scripted.requests.filter((r) => purposeOf(r) === 'execution');
      expect(execution).toHaveLength(2);
      const toolResult = execution[1]!.messages.find((m) => m.role === 'tool');
      expect(toolResult).toBeDefined();

      // Every body: strict schemas valid, a max_tokens budget, streamed with usage.
      const purposes = scripted.requests.map(purposeOf);
      expect(new Set(purposes)).toEqual(
        new Set(['planning', 'execution', 'extraction', 'synthesis', 'evaluation']),
      );
      let strict = 0;
      for (const req of scripted.requests) {
        strict += assertProviderRequest(req, DEFAULT_MAX_TOKENS[purposeOf(req)!]);
        expect(req.stream, purposeOf(req)).toBe(true);
      }
      // The plan, the extraction and the two judgements (research, synthesis) went out as
      // strict json_schema.
      expect(strict).toBe(4);

      // Streamed calls still report their usage: every request is recorded with its tokens.
      const calls = scripted.requests.length;
      for (
        let deadline = performance.now() + 5_000;
        ;
        await new Promise((r) => setTimeout(r, 50))
      ) {
        const usage = await server.gql(`{ llmUsage { calls totalTokens } }`);
        const { llmUsage } = usage.data as { llmUsage: { calls: number; totalTokens: number } };
        const { calls: seen, totalTokens } = llmUsage;
        if (seen >= calls || performance.now() > deadline) {
          expect({ seen, totalTokens }).toEqual({
            seen: calls,
            totalTokens: calls * (USAGE.prompt_tokens + USAGE.completion_tokens),
          });
          break;
        }
      }
    });
  },
);
