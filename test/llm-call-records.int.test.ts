import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { createAgentRuntime } from '../src/agents/runtime.js';
import type { StepContext } from '../src/engine/executor.js';
import { LLMCallRecorder } from '../src/llm/accounting.js';
import { unwrittenCallCount } from '../src/llm/call-writer.js';
import { llmEnvSchema, llmFromEnv, type LlmConfig } from '../src/llm/config.js';
import { createChatModel } from '../src/llm/models.js';
import {
  startScriptedOpenAI,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';

// What an LLMCall records when a call fails after the model answered, when the server names
// another model than the one configured (a local server), when the prompt was cached, and when
// the graph refuses the write: issue 10, "Tokens of failed calls are lost", "Prices never apply
// to local models", "Cost accounting".

interface Answer {
  model: string;
  content: string;
  prompt: number;
  completion: number;
  cached?: number;
  /** Leave out the completion id, as some compatible servers do. */
  noId?: boolean;
}

/**
 * A reply as a server that names its own model and reports cached tokens sends it: a Chat
 * Completions body, or its SSE chunks when the client streams (usage in the last chunk).
 */
function reply(req: ChatRequest, a: Answer): Reply {
  const id = `chatcmpl-${randomUUID()}`;
  const head = { ...(a.noId ? {} : { id }), created: 1_700_000_000, model: a.model };
  const usage = {
    prompt_tokens: a.prompt,
    completion_tokens: a.completion,
    total_tokens: a.prompt + a.completion,
    ...(a.cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: a.cached } }),
  };
  if (!req.stream) {
    const message = { role: 'assistant', content: a.content, refusal: null };
    const choices = [{ index: 0, message, logprobs: null, finish_reason: 'stop' }];
    return { raw: JSON.stringify({ ...head, object: 'chat.completion', choices, usage }) };
  }
  const chunk = (choices: unknown[], u: unknown = null) =>
    `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices, usage: u })}\n\n`;
  const delta = (d: object, finish_reason: string | null = null) => [
    { index: 0, delta: d, logprobs: null, finish_reason },
  ];
  return {
    raw:
      chunk(delta({ role: 'assistant', content: a.content })) +
      chunk(delta({}, 'stop')) +
      chunk([], usage) +
      'data: [DONE]\n\n',
  };
}

/** A local server's name for its weights, which no price table keyed by LLM_MODEL names. */
const WEIGHTS = 'qwen2.5-0.5b-instruct-q4_k_m.gguf';
const PRICE = { input: 1, output: 2 };

describe('model call records', () => {
  let server: TestServer;
  let openai: ScriptedOpenAI;
  let local: LlmConfig;
  let step: StepContext;
  const answers: (Answer | { status: number; error: string } | { raw: string })[] = [];

  const calls = (purpose: string) =>
    server.graph.read((tx) =>
      tx.run<{ c: Record<string, unknown> }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId, purpose: $purpose})
                 RETURN properties(c) AS c ORDER BY c.createdAt, c.promptTokens`,
        params: { tenantId: server.tenantId, purpose },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    openai = await startScriptedOpenAI((req) => {
      const next = answers.shift();
      return next
        ? 'status' in next || 'raw' in next
          ? next
          : reply(req, next)
        : { status: 400, error: 'no answer' };
    });
    local = llmFromEnv(
      llmEnvSchema.parse({
        LLM_PROVIDER: 'compatible',
        LLM_BASE_URL: openai.baseURL,
        LLM_MODEL: 'qwen2.5:0.5b',
        LLM_PRICES: JSON.stringify({ 'qwen2.5:0.5b': PRICE }),
        LLM_MAX_RETRIES: '0',
      }),
    );
    const res = await server.gql(
      `mutation { createAgent(input: { name: "Counter", role: MASTER_OPERATOR }) { id name role model } }`,
    );
    const agent = (res.data as { createAgent: StepContext['agent'] }).createAgent;
    const task = await server.gql(`mutation { createTask(input: { title: "Count" }) { id } }`);
    const taskId = (task.data as { createTask: { id: string } }).createTask.id;
    const runId = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId})
          CREATE (r:Run {id: $runId, tenantId: $tenantId, status: 'RUNNING', attempt: 1,
                         startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
          CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)`,
        params: { tenantId: server.tenantId, taskId, agentId: agent.id, runId },
      }),
    );
    step = {
      task: { id: taskId, tenantId: server.tenantId },
      agent,
      run: { id: runId, attempt: 1, spent: { usd: 0 } },
      inputs: {},
      signal: new AbortController().signal,
    } as unknown as StepContext;
  });
  afterAll(async () => {
    await openai?.close();
    await server?.stop();
  });

  it('records the tokens the server reported for an answer that fails parsing', async () => {
    answers.push({
      model: WEIGHTS,
      content: 'Sure! Here is the plan: step one...',
      prompt: 1_500,
      completion: 452,
    });
    const rt = createAgentRuntime({ uow: server.services.uow, llm: local, logger: server.logger });
    const structured = rt
      .model({ purpose: 'planning' }, step, 'planning')
      .withStructuredOutput(z.object({ steps: z.array(z.string()) }), { name: 'plan' });
    await expect(structured.invoke('Plan it')).rejects.toThrow();

    const [call, ...more] = await calls('planning');
    expect(more).toEqual([]);
    expect(call!.c).toMatchObject({
      model: 'qwen2.5:0.5b',
      responseModel: WEIGHTS,
      promptTokens: 1_500,
      completionTokens: 452,
      totalTokens: 1_952,
      priced: true,
      costUsd: (1_500 * PRICE.input + 452 * PRICE.output) / 1e6,
      runId: step.run.id,
      agentId: step.agent.id,
    });
    // Booked on the step's run as it was recorded: its end judges the run without reading it.
    expect(step.run.spent!.usd).toBe(call!.c.costUsd);
  });

  it("records the tokens of an answer that OpenAI's client itself refuses to parse", async () => {
    // ChatOpenAI's own structured output parses json_schema answers inside the client, which
    // throws before LangChain sees any usage: the recorder reads it off the wire instead.
    answers.push({ model: WEIGHTS, content: 'not JSON at all', prompt: 640, completion: 32 });
    const recorder = new LLMCallRecorder({
      store: server.graph,
      tenantId: server.tenantId,
      purpose: 'client-parse',
      runId: step.run.id,
      prices: local.prices,
      describe: { provider: 'compatible', model: 'qwen2.5:0.5b' },
    });
    const model = new ChatOpenAI({
      model: 'qwen2.5:0.5b',
      apiKey: 'not-needed',
      configuration: { baseURL: openai.baseURL },
      maxRetries: 0,
      callbacks: [recorder],
    });
    const structured = recorder
      .attach(model)
      .withStructuredOutput(z.object({ steps: z.array(z.string()) }), { name: 'plan' });
    await expect(structured.invoke('Plan it')).rejects.toThrow(/JSON/);
    await recorder.flush();
    const rows = (await calls('client-parse')).map((r) => r.c);
    expect(rows).toEqual([
      expect.objectContaining({
        model: 'qwen2.5:0.5b',
        responseModel: WEIGHTS,
        promptTokens: 640,
        completionTokens: 32,
        costUsd: (640 * PRICE.input + 32 * PRICE.output) / 1e6,
        error: expect.stringMatching(/JSON/),
      }),
    ]);
  });

  it('books each answer of a server that sends no completion id once', async () => {
    answers.push(
      { model: WEIGHTS, content: 'Fine.', prompt: 30, completion: 3, noId: true },
      { model: WEIGHTS, content: 'not JSON', prompt: 40, completion: 4, noId: true },
    );
    const recorder = new LLMCallRecorder({
      store: server.graph,
      tenantId: server.tenantId,
      purpose: 'no-id',
      prices: local.prices,
      describe: { provider: 'compatible', model: 'qwen2.5:0.5b' },
    });
    const model = recorder.attach(
      new ChatOpenAI({
        model: 'qwen2.5:0.5b',
        apiKey: 'not-needed',
        configuration: { baseURL: openai.baseURL },
        maxRetries: 0,
        callbacks: [recorder],
      }),
    );
    await model.invoke('one');
    const structured = model.withStructuredOutput(z.object({ a: z.string() }), { name: 'a' });
    await expect(structured.invoke('two')).rejects.toThrow();
    await recorder.flush();
    const rows = (await calls('no-id')).map((r) => [r.c.promptTokens, r.c.error !== undefined]);
    expect(rows.sort()).toEqual([
      [30, false],
      [40, true],
    ]);
  });

  it('records one agent under its configured model and prices a local model by it', async () => {
    answers.push(
      {
        model: WEIGHTS,
        content: 'Hello',
        prompt: 100,
        completion: 10,
      },
      { status: 500, error: 'the model crashed' },
    );
    const rt = createAgentRuntime({ uow: server.services.uow, llm: local, logger: server.logger });
    await rt.model({ purpose: 'chat' }, step, 'chat').invoke('Hi');
    await expect(rt.model({ purpose: 'chat' }, step, 'chat').invoke('Hi again')).rejects.toThrow();

    const rows = (await calls('chat')).map((r) => r.c);
    expect(rows).toHaveLength(2);
    const ok = rows.find((c) => c.error === undefined)!;
    const failed = rows.find((c) => c.error !== undefined)!;
    // One name for the agent's calls, answered or not; the server's own name beside it.
    expect(ok).toMatchObject({ model: 'qwen2.5:0.5b', responseModel: WEIGHTS, priced: true });
    expect(ok.costUsd).toBe((100 * PRICE.input + 10 * PRICE.output) / 1e6);
    expect(failed).toMatchObject({ model: 'qwen2.5:0.5b', promptTokens: 0, priced: true });
    expect(failed.responseModel).toBeUndefined();
  });

  it("records a streamed answer's model as the server names it", async () => {
    const rt = createAgentRuntime({ uow: server.services.uow, llm: local, logger: server.logger });
    const model = () => rt.model({ purpose: 'synthesis' }, step, 'synthesis');
    answers.push({ model: WEIGHTS, content: 'Streamed', prompt: 40, completion: 4 });
    let text = '';
    for await (const chunk of await model().stream('Hi')) text += String(chunk.content);
    // invoke() streams too when a callback prefers it, as a step's token publisher does.
    answers.push({ model: WEIGHTS, content: 'Invoked', prompt: 30, completion: 3 });
    const tokens: string[] = [];
    const preferStreaming = {
      lc_prefer_streaming: true,
      handleLLMNewToken: (t: string) => void tokens.push(t),
    };
    const invoked = await model().invoke('Hi', { callbacks: [preferStreaming] });
    expect([text, invoked.content, tokens.join('')]).toEqual(['Streamed', 'Invoked', 'Invoked']);
    const rows = (await calls('synthesis')).map((r) => r.c);
    expect(rows.map((c) => [c.promptTokens, c.model, c.responseModel])).toEqual([
      [40, 'qwen2.5:0.5b', WEIGHTS],
      [30, 'qwen2.5:0.5b', WEIGHTS],
    ]);
  });

  it('records a streamed call whose server sent no answer at all (a page, not events)', async () => {
    // A proxy's HTML page typed as events went unrecorded (the recorder threw on the empty
    // generation), then read as an empty answer: now it is the server's fault, recorded.
    const rt = createAgentRuntime({ uow: server.services.uow, llm: local, logger: server.logger });
    answers.push({ raw: '<html><body>Bad gateway</body></html>' });
    const streamed = async () => {
      for await (const _ of await rt.model({ purpose: 'memory' }, step, 'memory').stream('Hi'));
    };
    await expect(streamed()).rejects.toThrow(/text\/event-stream but no server-sent event/);
    const rows = (await calls('memory')).map((r) => r.c);
    expect(rows.map((c) => [c.promptTokens, c.model])).toEqual([[0, 'qwen2.5:0.5b']]);
    expect(rows[0]!.error).toMatch(/starting: <html><body>Bad gateway/);
  });

  it('prices cached prompt tokens at the cached-input price', async () => {
    const prices = {
      'qwen2.5:0.5b': PRICE,
      'cached-model': { input: 2, output: 4, cachedInput: 0.25 },
    };
    const llm = llmFromEnv(
      llmEnvSchema.parse({
        LLM_PROVIDER: 'compatible',
        LLM_BASE_URL: openai.baseURL,
        LLM_MODEL: 'qwen2.5:0.5b',
        LLM_PRICES: JSON.stringify(prices),
        LLM_MAX_RETRIES: '0',
      }),
    );
    answers.push(
      {
        model: WEIGHTS,
        content: 'a',
        prompt: 1_000,
        completion: 100,
        cached: 800,
      },
      {
        model: 'cached-model',
        content: 'b',
        prompt: 1_000,
        completion: 100,
        cached: 800,
      },
    );
    const rt = createAgentRuntime({ uow: server.services.uow, llm, logger: server.logger });
    await rt.model({ purpose: 'evaluation' }, step, 'evaluation').invoke('one');
    await rt.model({ purpose: 'evaluation' }, step, 'evaluation').invoke('two');

    const rows = (await calls('evaluation')).map((r) => r.c);
    const byModel = Object.fromEntries(rows.map((c) => [c.responseModel as string, c]));
    // No cachedInput in the table: half the input price.
    expect(byModel[WEIGHTS]).toMatchObject({ promptTokens: 1_000, cachedPromptTokens: 800 });
    expect(byModel[WEIGHTS]!.costUsd).toBe((200 * 1 + 800 * 0.5 + 100 * 2) / 1e6);
    expect(byModel['cached-model']!.costUsd).toBe((200 * 2 + 800 * 0.25 + 100 * 4) / 1e6);
  });

  it('counts calls to a model nobody priced in unpricedCalls', async () => {
    const unpriced = llmFromEnv(
      llmEnvSchema.parse({
        LLM_PROVIDER: 'compatible',
        LLM_BASE_URL: openai.baseURL,
        LLM_MODEL: 'mystery-model',
        LLM_MAX_RETRIES: '0',
      }),
    );
    answers.push({ model: 'mystery-model', content: 'hm', prompt: 7, completion: 3 });
    const rt = createAgentRuntime({
      uow: server.services.uow,
      llm: unpriced,
      logger: server.logger,
    });
    await rt.model({ purpose: 'extraction' }, step, 'extraction').invoke('?');
    const res = await server.gql(`{ llmUsage { calls unpricedCalls costUsd } }`);
    expect(res.errors).toBeUndefined();
    const usage = (res.data as { llmUsage: { calls: number; unpricedCalls: number } }).llmUsage;
    expect(usage.unpricedCalls).toBe(1);
    expect(usage.calls).toBeGreaterThan(1);
  });

  it('retries a refused LLMCall write, and keeps one it cannot write for the next write', async () => {
    let refusals = 2;
    const flaky = <T>(work: Parameters<typeof server.graph.write<T>>[0]) =>
      refusals-- > 0 ? Promise.reject(new Error('Neo4j is away')) : server.graph.write(work);
    const errors: object[] = [];
    const log = { warn: () => {}, error: (obj: object) => void errors.push(obj) };
    const offline = llmFromEnv(llmEnvSchema.parse({}));
    const recorder = (store: typeof flaky, purpose: string) =>
      new LLMCallRecorder({
        store,
        tenantId: server.tenantId,
        purpose,
        prices: offline.prices,
        describe: { provider: 'offline', model: 'offline/deterministic-v1' },
        log,
        writeRetry: { attempts: 3, baseMs: 1 },
      });

    const first = recorder(flaky, 'retried-write');
    await createChatModel({ purpose: 'chat' }, offline, [first]).invoke('one');
    await first.flush();
    expect(await calls('retried-write')).toHaveLength(1);
    expect(errors).toEqual([]);

    // Refused every time: logged at error with its figures, kept, written by the next write.
    refusals = 3;
    const kept = recorder(flaky, 'kept-write');
    await createChatModel({ purpose: 'chat' }, offline, [kept]).invoke('two');
    await kept.flush();
    expect(await calls('kept-write')).toHaveLength(0);
    expect(unwrittenCallCount()).toBe(1);
    expect(errors).toEqual([
      expect.objectContaining({
        purpose: 'kept-write',
        model: 'offline/deterministic-v1',
        promptTokens: expect.any(Number),
      }),
    ]);
    const next = recorder(flaky, 'next-write');
    await createChatModel({ purpose: 'chat' }, offline, [next]).invoke('three');
    await next.flush();
    expect(await calls('kept-write')).toHaveLength(1);
    expect(await calls('next-write')).toHaveLength(1);
    expect(unwrittenCallCount()).toBe(0);
  });
});
