import { HumanMessage } from '@langchain/core/messages';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { tool } from '@langchain/core/tools';
import { createAgent } from 'langchain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runAgentLoop } from '../src/agents/checkpoint/resume.js';
import { loadConfig } from '../src/config/config.js';
import { isTransient, StepError } from '../src/engine/executor.js';
import { createChatModel } from '../src/llm/models.js';
import { type ChatRequest, type Reply, type ScriptedOpenAI } from './utils/openai-server.js';
import {
  NO_REPLY,
  startScripted,
  llmOn,
  PLAN,
  text,
  recordingLog,
} from './utils/openai-requests-fixtures.js';

// What the platform's model layer sends to an OpenAI-compatible server and how it takes the
// answers of weak local models (issue 10, "Real models"), on the real ChatOpenAI client against
// the scripted loopback server. No database. Here: tool calls written as text or refused,
// timeouts, withConfig, aborts and a refused stream_options (openai-requests-plans.test.ts: the
// plan request).

let scripted: ScriptedOpenAI;
let replies: (req: ChatRequest, n: number) => Reply;
beforeEach(async () => {
  replies = NO_REPLY;
  scripted = await startScripted(() => replies);
});
afterEach(async () => {
  await scripted.close();
});

const llmOf = (env?: Record<string, string>) => llmOn(scripted, env);

/** Makes invoke() stream, as a step's token publisher does. */
class Streams extends BaseCallbackHandler {
  name = 'streams';
  readonly lc_prefer_streaming = true;
}

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
  it.each([
    ['streaming', true],
    ['not streaming', false],
  ])('gets its text call back once, not twice (%s)', async (_label, streaming) => {
    replies = (req) => {
      if (req.tools) return { status: 400, error: 'tools are not supported by this model' };
      const done = req.messages.some((m) => text(m).startsWith('Result of search_knowledge'));
      if (done) return { content: 'Sales grew 10%.' };
      return { content: '```json\n{"name": "search_knowledge", "arguments": {"query": "x"}}\n```' };
    };
    const callbacks = streaming ? [new Streams()] : [];
    await createAgent({
      model: createChatModel({ purpose: 'execution' }, llmOf()),
      tools: [search],
    }).invoke({ messages: [new HumanMessage('How are e-bikes selling?')] }, { callbacks });
    const said = scripted.requests.at(-1)!.messages.filter((m) => m.role === 'assistant');
    expect(said).toHaveLength(1);
    expect(text(said[0]).match(/search_knowledge/g)).toHaveLength(1);
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

describe('a model that keeps calling tools', () => {
  it("fails its step in the platform's words, not LangGraph's recursionLimit, as before", async () => {
    let runs = 0;
    const lookup = tool(
      async () => {
        runs++;
        return 'Nothing new.';
      },
      { name: 'lookup', description: 'Look it up.', schema: z.object({ q: z.string() }) },
    );
    replies = () => ({ toolCalls: [{ name: 'lookup', args: { q: 'again' } }] });
    const agent = createAgent({
      model: createChatModel({ purpose: 'execution' }, llmOf()),
      tools: [lookup],
    });
    const signal = new AbortController().signal;
    const err = await runAgentLoop(
      agent,
      undefined,
      { messages: [new HumanMessage('Find it.')] },
      { signal, recursionLimit: 12, threadId: 'loop' },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(runs).toBeGreaterThan(1);
    expect(err).toBeInstanceOf(StepError);
    expect((err as Error).message).toBe(
      `the agent made ${runs} tool calls without giving an answer, and its loop was stopped ` +
        'at its limit of 12 steps (model calls and rounds of tool calls)',
    );
    // Permanent, as LangGraph's own error was: the same model would loop again.
    expect(isTransient(err)).toBe(false);
  });
});

// A streamed call asks for its usage with `stream_options`, as OpenAI documents; some
// OpenAI-compatible servers (older Azure API versions, some local servers) refuse the field.
const REFUSAL = 'Unrecognized request argument supplied: stream_options';

async function streamed(log?: ReturnType<typeof recordingLog>['log']): Promise<string> {
  const model = createChatModel({ purpose: 'execution' }, llmOf(), undefined, log);
  let text = '';
  for await (const chunk of await model.stream([new HumanMessage('Say hello.')])) {
    text += chunk.text;
  }
  return text;
}

describe('a server that refuses stream_options', () => {
  it('gets the streamed call again without it, says so once, and is remembered', async () => {
    replies = (req) => (req.stream_options ? { status: 400, error: REFUSAL } : { content: 'Hi.' });
    const { log, lines } = recordingLog();
    expect(await streamed(log)).toBe('Hi.');
    expect(scripted.requests.map((r) => [r.stream, r.stream_options ?? null])).toEqual([
      [true, { include_usage: true }],
      [true, null],
    ]);
    expect(lines).toEqual([
      `qwen2.5-3b-instruct at ${scripted.baseURL} refused stream_options; its streamed answers are asked for without usage, and their calls record the tokens it reports (none)`,
    ]);
    // The next call of the same model and server goes without it at once.
    expect(await streamed(log)).toBe('Hi.');
    expect(scripted.requests.slice(2).map((r) => r.stream_options ?? null)).toEqual([null]);
    expect(lines).toHaveLength(1);
  });

  it('still fails with other 400s as they are', async () => {
    replies = () => ({ status: 400, error: 'messages must not be empty' });
    await expect(streamed()).rejects.toThrow(/messages must not be empty/);
    expect(scripted.requests).toHaveLength(1);
  });

  it('keeps asking a server that takes it for usage', async () => {
    replies = () => ({ content: 'Hi.', usage: { prompt_tokens: 7, completion_tokens: 2 } });
    expect(await streamed()).toBe('Hi.');
    expect(scripted.requests.map((r) => r.stream_options)).toEqual([{ include_usage: true }]);
  });
});
