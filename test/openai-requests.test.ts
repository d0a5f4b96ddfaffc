import { HumanMessage } from '@langchain/core/messages';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { tool } from '@langchain/core/tools';
import { createAgent } from 'langchain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CandidateAgent } from '../graph/claim.repository.js';
import { planTask } from '../src/agents/plan.js';
import { loadConfig } from '../src/config.js';
import type { Agent } from '../src/domain/agent.js';
import type { Task } from '../src/domain/task.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';
import { createChatModel } from '../src/llm/models.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { assertOpenAIStrictRequest } from './utils/strict-schema.js';

// What the platform's model layer sends to an OpenAI-compatible server and how it takes the
// answers of weak local models (issue 10, "Real models"), on the real ChatOpenAI client against
// the scripted loopback server. No database: the plan chain and a tool-calling agent run alone.

let scripted: ScriptedOpenAI;
let replies: (req: ChatRequest, n: number) => Reply;
beforeEach(async () => {
  forgetStructuredModes();
  replies = () => ({ status: 400, error: 'no reply scripted' });
  scripted = await startScriptedOpenAI((req, n) => replies(req, n));
});
afterEach(async () => {
  await scripted.close();
});

const llmOf = (env: Record<string, string> = {}) =>
  loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'qwen2.5-3b-instruct',
    ...env,
  }).llm;

const now = new Date(0).toISOString();
const chief: Agent = {
  id: 'cos',
  tenantId: 't',
  name: 'Chief',
  description: null,
  role: 'CHIEF_OF_STAFF' as Agent['role'],
  status: 'IDLE' as Agent['status'],
  active: true,
  model: null,
  systemPrompt: null,
  version: 1,
  createdAt: now,
  updatedAt: now,
};
const operators: CandidateAgent[] = [
  {
    agent: { ...chief, id: 'mo', name: 'Researcher', role: 'MASTER_OPERATOR' as Agent['role'] },
    load: 0,
    capabilities: [
      { name: 'research', proficiency: 0.5, runs: 0, successes: 0, avgLatencyMs: 0 },
      { name: 'writing', proficiency: 0.5, runs: 0, successes: 0, avgLatencyMs: 0 },
    ],
  } as CandidateAgent,
];
const task = {
  id: 'root',
  tenantId: 't',
  title: 'Electric bike market brief',
  description: 'Research the European e-bike market, then write a one-page brief.',
  priority: 'MEDIUM',
} as Task;

const step = (key: string, dependsOn: string[]) => ({
  key,
  title: `Step ${key}`,
  instructions: `Do ${key}`,
  capability: 'research',
  dependsOn,
  condition: null,
  output: `Notes of ${key}`,
});
const PLAN = { steps: [step('research', []), step('write', ['research'])] };
const INVALID_PLAN = { steps: [step('write', ['nope'])] };

const plan = (env?: Record<string, string>, log?: Log) =>
  planTask(
    createChatModel({ purpose: 'planning' }, llmOf(env), undefined, log),
    chief,
    task,
    operators,
    [],
  );

const text = (m: ChatMessage | undefined): string =>
  typeof m?.content === 'string' ? m.content : (m?.content ?? []).map((p) => p.text ?? '').join('');
const lastText = (r: ChatRequest) => text(r.messages.at(-1));

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
const recordingLog = () => {
  const lines: string[] = [];
  const log: Log = {
    info: (_o, msg) => void lines.push(msg),
    warn: (_o, msg) => void lines.push(msg),
  };
  return { log, lines };
};

describe('the plan request', () => {
  it('sends a plan schema that is valid under OpenAI strict rules', async () => {
    replies = () => ({ json: PLAN });
    const { steps } = await plan();
    expect(steps.map((s) => s.key)).toEqual(['research', 'write']);
    expect(scripted.requests).toHaveLength(1);
    const [request] = scripted.requests;
    expect(request!.response_format?.type).toBe('json_schema');
    expect(request!.response_format?.json_schema).toMatchObject({ name: 'plan', strict: true });
    expect(assertOpenAIStrictRequest(request!)).toBe(1);
  });

  it('sends a max_tokens budget on every call, per purpose and configurable', async () => {
    replies = () => ({ json: PLAN });
    await plan();
    await plan({ LLM_MAX_TOKENS_PLANNING: '777' });
    expect(scripted.requests.map((r) => r.max_tokens)).toEqual([DEFAULT_MAX_TOKENS.planning, 777]);
    replies = () => ({ content: 'An answer.' });
    for (const purpose of ['execution', 'synthesis', 'chat', 'extraction'] as const) {
      await createChatModel({ purpose }, llmOf()).invoke([new HumanMessage('Hello')]);
      expect(scripted.requests.at(-1)!.max_tokens, purpose).toBe(DEFAULT_MAX_TOKENS[purpose]);
    }
  });

  it('repair prompt shows the model the plan it rejected', async () => {
    let n = 0;
    replies = () => ({ json: n++ === 0 ? INVALID_PLAN : PLAN });
    await plan();
    expect(scripted.requests).toHaveLength(2);
    const repair = lastText(scripted.requests[1]!);
    expect(repair).toContain('Your plan cannot be used');
    expect(repair).toContain('depends on "nope"');
    expect(repair).toContain('Your answer was:');
    expect(repair).toContain('"dependsOn":["nope"]');
  });

  it('treats a plan cut off at max_tokens as invalid and shows the model where it stopped', async () => {
    const cut = JSON.stringify(PLAN).slice(0, 60);
    let n = 0;
    replies = () =>
      n++ === 0 ? { content: cut, finishReason: 'length' } : { json: PLAN, finishReason: 'stop' };
    const { log, lines } = recordingLog();
    const { steps } = await plan({}, log);
    expect(steps).toHaveLength(2);
    const repair = lastText(scripted.requests[1]!);
    expect(repair).toContain('cut off at the max_tokens limit');
    expect(repair).toContain(cut);
    expect(lines).toContain(
      `qwen2.5-3b-instruct at ${scripted.baseURL} was cut off at max_tokens (4096) for planning; if answers need more, raise LLM_MAX_TOKENS_PLANNING`,
    );
  });

  it('logs a text answer cut off at max_tokens with the setting to raise', async () => {
    replies = () => ({ content: 'la la la la', finishReason: 'length' });
    const { log, lines } = recordingLog();
    const llm = llmOf({ LLM_MAX_TOKENS_SYNTHESIS: '64' });
    await createChatModel({ purpose: 'synthesis' }, llm, undefined, log).invoke('Write.');
    expect(lines).toEqual([
      `qwen2.5-3b-instruct at ${scripted.baseURL} was cut off at max_tokens (64) for synthesis; if answers need more, raise LLM_MAX_TOKENS_SYNTHESIS`,
    ]);
    expect(scripted.requests[0]!.max_tokens).toBe(64);
  });

  it('shows a long rejected answer by its start and its end', async () => {
    const junk = `{"steps": "${'la '.repeat(3000)}"}`;
    let n = 0;
    replies = () => (n++ === 0 ? { content: junk } : { json: PLAN });
    await plan();
    const repair = lastText(scripted.requests[1]!);
    expect(repair).toContain(junk.slice(0, 3000));
    expect(repair).toContain('characters left out');
    expect(repair).toContain(junk.slice(-500));
    expect(repair.length).toBeLessThan(junk.length);
  });
});

describe('a server without strict structured output', () => {
  const refuses =
    (...refused: Array<'json_schema' | 'tools'>) =>
    (req: ChatRequest): Reply | undefined => {
      if (refused.includes('json_schema') && req.response_format?.type === 'json_schema')
        return {
          status: 400,
          error: "Unsupported parameter: 'response_format' of type json_schema",
        };
      if (refused.includes('tools') && req.tools)
        return { status: 400, error: 'This model does not support tools' };
      return undefined;
    };

  it('falls back to function calling when json_schema is refused, and remembers it', async () => {
    const refuse = refuses('json_schema');
    replies = (req) =>
      refuse(req) ?? (req.tools ? { toolCalls: [{ name: 'plan', args: PLAN }] } : { status: 400 });
    const { log, lines } = recordingLog();
    expect((await plan({}, log)).steps).toHaveLength(2);
    expect((await plan({}, log)).steps).toHaveLength(2);
    const kinds = scripted.requests.map((r) => (r.tools ? 'tools' : r.response_format?.type));
    expect(kinds).toEqual(['json_schema', 'tools', 'tools']);
    const forced = scripted.requests[1]!;
    expect(forced.tool_choice).toEqual({ type: 'function', function: { name: 'plan' } });
    expect(assertOpenAIStrictRequest(forced)).toBe(1);
    expect(lines).toContain(
      `structured output: qwen2.5-3b-instruct at ${scripted.baseURL} refused json_schema; trying function_calling`,
    );
    expect(lines).toContain(
      `structured output: qwen2.5-3b-instruct at ${scripted.baseURL} answers in function_calling`,
    );
  });

  it('falls back to JSON mode with the schema in the prompt when tools are refused too', async () => {
    const refuse = refuses('json_schema', 'tools');
    replies = (req) =>
      refuse(req) ?? { content: `Here is the plan:\n\`\`\`json\n${JSON.stringify(PLAN)}\n\`\`\`` };
    expect((await plan()).steps).toHaveLength(2);
    const last = scripted.requests.at(-1)!;
    expect(last.response_format).toEqual({ type: 'json_object' });
    expect(last.tools).toBeUndefined();
    const system = last.messages.filter((m) => m.role === 'system');
    expect(system).toHaveLength(1);
    expect(text(system[0])).toContain('matches this JSON Schema');
    expect(text(system[0])).toContain('"dependsOn"');
  });

  it('takes a plan written as text when the server ignores the forced tool', async () => {
    replies = () => ({ content: JSON.stringify(PLAN) });
    const { steps } = await plan({ LLM_STRUCTURED_OUTPUT: 'function_calling' });
    expect(steps).toHaveLength(2);
    expect(scripted.requests[0]!.tools?.[0]?.function.name).toBe('plan');
  });

  it('does not fall back when a mode is configured', async () => {
    replies = (req) => refuses('json_schema')(req) ?? { json: PLAN };
    await expect(plan({ LLM_STRUCTURED_OUTPUT: 'json_schema' })).rejects.toMatchObject({
      status: 400,
    });
    expect(scripted.requests).toHaveLength(1);
  });
});

describe('a tool call written as text', () => {
  const searched: string[] = [];
  const search = tool(
    async ({ query }) => {
      searched.push(query);
      return 'E-bike sales grew 10% last year.';
    },
    {
      name: 'search_knowledge',
      description: 'Search what the organisation knows.',
      schema: z.object({ query: z.string() }),
    },
  );
  const written = '```json\n{"name": "search_knowledge", "arguments": {"query": "e-bikes"}}\n```';

  /** Makes invoke() stream, as a step's token publisher does. */
  class Streams extends BaseCallbackHandler {
    name = 'streams';
    readonly lc_prefer_streaming = true;
  }

  it.each([
    ['streaming', true],
    ['not streaming', false],
  ])('is run as a tool call, not taken as the answer (%s)', async (_label, streaming) => {
    searched.length = 0;
    let n = 0;
    replies = () => (n++ === 0 ? { content: written } : { content: 'Sales grew 10%.' });
    const agent = createAgent({
      model: createChatModel({ purpose: 'execution' }, llmOf()),
      tools: [search],
    });
    const state = await agent.invoke(
      { messages: [new HumanMessage('How are e-bikes selling?')] },
      { callbacks: streaming ? [new Streams()] : [] },
    );
    expect(searched).toEqual(['e-bikes']);
    expect(state.messages.at(-1)!.text).toBe('Sales grew 10%.');
    expect(scripted.requests).toHaveLength(2);
    expect(scripted.requests.map((r) => r.stream === true)).toEqual([streaming, streaming]);
    const toolResult = scripted.requests[1]!.messages.find((m) => m.role === 'tool');
    expect(text(toolResult)).toBe('E-bike sales grew 10% last year.');
  });
});

describe('a model that does not answer in time', () => {
  it('gives local servers 300 s by default and hosted ones 60 s', () => {
    expect(llmOf().timeoutMs).toBe(300_000);
    expect(loadConfig({ OPENAI_API_KEY: 'sk-x' }).llm.timeoutMs).toBe(60_000);
    expect(llmOf({ LLM_TIMEOUT_MS: '2000' }).timeoutMs).toBe(2000);
  });

  it('fails with an error naming the model, the server and LLM_TIMEOUT_MS', async () => {
    replies = () => ({ delayMs: 30_000, then: { content: 'late' } });
    const model = createChatModel({ purpose: 'synthesis' }, llmOf({ LLM_TIMEOUT_MS: '1000' }));
    const error = await model.invoke([new HumanMessage('Hello')]).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.name).toBe('TimeoutError');
    expect(error?.message).toBe(
      `The model qwen2.5-3b-instruct at ${scripted.baseURL} did not answer within 1000 ms (LLM_TIMEOUT_MS); a local model on a CPU may need more: raise LLM_TIMEOUT_MS`,
    );
  });
});

describe('a server without tool calling', () => {
  const searched: string[] = [];
  const search = tool(
    async ({ query }) => {
      searched.push(query);
      return 'E-bike sales grew 10% last year.';
    },
    {
      name: 'search_knowledge',
      description: 'Search what the organisation knows.',
      schema: z.object({ query: z.string() }),
    },
  );

  it('gets the tools in the prompt, answers with a text call that runs, and is remembered', async () => {
    searched.length = 0;
    replies = (req) => {
      if (req.tools) return { status: 400, error: 'tools are not supported by this model' };
      if (req.messages.some((m) => m.role === 'tool')) return { status: 400, error: 'bad role' };
      const results = req.messages.filter((m) => text(m).startsWith('Result of search_knowledge'));
      if (results.length === 0) {
        return { content: '{"name": "search_knowledge", "arguments": {"query": "e-bikes"}}' };
      }
      return { content: 'Sales grew 10%.' };
    };
    const { log, lines } = recordingLog();
    const run = () =>
      createAgent({
        model: createChatModel({ purpose: 'execution' }, llmOf(), undefined, log),
        tools: [search],
      }).invoke({ messages: [new HumanMessage('How are e-bikes selling?')] });
    const state = await run();
    expect(searched).toEqual(['e-bikes']);
    expect(state.messages.at(-1)!.text).toBe('Sales grew 10%.');
    // Refused once with tools, then twice without: the call, then its result.
    expect(scripted.requests.map((r) => !!r.tools)).toEqual([true, false, false]);
    const prompted = scripted.requests[1]!;
    const system = prompted.messages.filter((m) => m.role === 'system');
    expect(system).toHaveLength(1);
    expect(text(system[0])).toContain('- search_knowledge: Search what the organisation knows.');
    expect(text(scripted.requests[2]!.messages.at(-1))).toBe(
      'Result of search_knowledge:\nE-bike sales grew 10% last year.',
    );
    expect(lines).toEqual([
      `qwen2.5-3b-instruct at ${scripted.baseURL} refused tools; its tools are described in the prompt and text tool calls are read`,
      `qwen2.5-3b-instruct at ${scripted.baseURL} wrote its tool call as text; running it as a tool call`,
    ]);
    // The next step of the same model goes straight to the prompt.
    await run();
    expect(scripted.requests.slice(3).map((r) => !!r.tools)).toEqual([false, false]);
  });
});

describe('a model derived with withConfig', () => {
  it('keeps a fetch given to its client after construction (as the call recorder gives it)', async () => {
    replies = () => ({ json: PLAN });
    const seen: string[] = [];
    const model = createChatModel({ purpose: 'planning' }, llmOf()) as unknown as {
      clientConfig: object;
      withStructuredOutput: ReturnType<typeof createChatModel>['withStructuredOutput'];
    };
    model.clientConfig = {
      ...model.clientConfig,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        seen.push(String(input));
        return fetch(input, init);
      },
    };
    await model.withStructuredOutput(z.object({ steps: z.array(z.unknown()) })).invoke('Plan.');
    expect(seen).toEqual([`${scripted.baseURL}/chat/completions`]);
  });
});

describe('an aborted structured call', () => {
  it('stops at once when its signal aborts, without trying another mode', async () => {
    replies = () => ({ delayMs: 30_000, then: { json: PLAN } });
    const model = createChatModel({ purpose: 'planning' }, llmOf());
    const controller = new AbortController();
    const call = model
      .withStructuredOutput(z.object({ steps: z.array(z.unknown()) }), { name: 'plan' })
      .invoke('Plan.', { signal: controller.signal })
      .then(
        () => 'resolved',
        (err: Error) => err.name,
      );
    while (scripted.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await call).toBe('AbortError');
    expect(scripted.requests).toHaveLength(1);
  });
});
