import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatOpenAI } from '@langchain/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { TaskPriority } from '../src/domain/task.js';
import { checkModelReachable, createChatModel, describeModel } from '../src/llm/models.js';
import { OFFLINE_MODEL_NAME, OfflineChatModel } from '../src/llm/offline-model.js';
import { costUsd, DEFAULT_PRICES } from '../src/llm/pricing.js';
import { modelFor, purposeIn, purposeMarker, type ModelRouting } from '../src/llm/routing.js';
import { llmOf } from './utils/llm-env.js';

/*
 * Model configuration: routing (modelFor), prices, the LLM_* settings, the chat models made from
 * them and the reachability check (llm-offline.test.ts: the offline model).
 */

/** AsyncCaller keeps maxRetries protected; the value is what ChatOpenAI retries with. */
const retriesOf = (chat: ChatOpenAI) =>
  (chat.caller as unknown as { maxRetries: number }).maxRetries;

describe('modelFor', () => {
  const routing: ModelRouting = {
    model: 'base-model',
    purposeModels: { planning: 'planner', execution: 'executor' },
    lowPriorityModel: 'cheap',
  };

  it("uses the agent's own model over every setting", () => {
    expect(modelFor({ purpose: 'planning', agentModel: 'mine' }, routing)).toBe('mine');
    expect(
      modelFor({ purpose: 'execution', priority: TaskPriority.LOW, agentModel: 'mine' }, routing),
    ).toBe('mine');
  });

  it('runs LOW-priority execution on LLM_MODEL_LOW_PRIORITY when set', () => {
    expect(modelFor({ purpose: 'execution', priority: TaskPriority.LOW }, routing)).toBe('cheap');
    expect(modelFor({ purpose: 'execution', priority: 'HIGH' }, routing)).toBe('executor');
    expect(modelFor({ purpose: 'planning', priority: 'LOW' }, routing)).toBe('planner');
    const noLow = { ...routing, lowPriorityModel: undefined };
    expect(modelFor({ purpose: 'execution', priority: 'LOW' }, noLow)).toBe('executor');
  });

  it("falls back from the purpose's model to LLM_MODEL, ignoring a blank agent model", () => {
    expect(modelFor({ purpose: 'chat', agentModel: '  ' }, routing)).toBe('base-model');
    expect(modelFor({ purpose: 'planning', agentModel: null }, routing)).toBe('planner');
  });

  it('reads the purpose marker a chain puts in its prompt', () => {
    expect(purposeMarker('planning')).toBe('[[purpose:planning]]');
    expect(purposeIn(`Plan this. ${purposeMarker('synthesis')}`)).toBe('synthesis');
    expect(purposeIn('[[purpose:dreaming]] no such purpose')).toBeUndefined();
  });
});

describe('costUsd', () => {
  it('prices tokens per million from the table', () => {
    expect(costUsd('gpt-4o-mini', 1_000_000, 1_000_000, DEFAULT_PRICES)).toEqual({
      costUsd: 0.75,
      priced: true,
    });
    expect(costUsd('gpt-4o', 1000, 500, DEFAULT_PRICES).costUsd).toBeCloseTo(0.0075, 10);
    expect(costUsd('offline', 500, 500, DEFAULT_PRICES)).toEqual({ costUsd: 0, priced: true });
    expect(costUsd(OFFLINE_MODEL_NAME, 9, 9, DEFAULT_PRICES).priced).toBe(true);
  });

  it('costs unknown models 0 and flags them unpriced', () => {
    expect(costUsd('llama3.1', 1000, 1000, DEFAULT_PRICES)).toEqual({ costUsd: 0, priced: false });
    expect(costUsd('openrouter/auto', 10, 10, DEFAULT_PRICES).priced).toBe(false);
  });

  it('finds provider-prefixed and dated names, and ignores negative counts', () => {
    expect(costUsd('openai/gpt-4.1-mini', 1_000_000, 0, DEFAULT_PRICES).costUsd).toBe(0.4);
    expect(costUsd('gpt-4o-mini-2024-07-18', 0, 1_000_000, DEFAULT_PRICES).costUsd).toBe(0.6);
    expect(costUsd('gpt-4o', -5, Number.NaN, DEFAULT_PRICES)).toEqual({ costUsd: 0, priced: true });
  });
});

describe('LLM configuration', () => {
  it('runs the offline model when nothing is configured', () => {
    const llm = llmOf({});
    expect(llm).toMatchObject({ provider: 'offline', model: 'offline', timeoutMs: 60_000 });
    expect(llm.maxRetries).toBe(0);
    expect(llm.apiKey).toBeUndefined();
    expect(llm.baseUrl).toBeUndefined();
    expect(llm.prices['gpt-4o-mini']).toEqual({ input: 0.15, output: 0.6, cachedInput: 0.075 });
  });

  it('infers the provider from what is set, with each default model and URL', () => {
    expect(llmOf({ OPENAI_API_KEY: 'sk-a', OPENROUTER_API_KEY: 'or-b' })).toMatchObject({
      provider: 'openai',
      apiKey: 'sk-a',
      model: 'gpt-4o-mini',
      baseUrl: 'https://api.openai.com/v1',
    });
    expect(llmOf({ OPENROUTER_API_KEY: 'or-b' })).toMatchObject({
      provider: 'openrouter',
      apiKey: 'or-b',
      model: 'openrouter/auto',
      baseUrl: 'https://openrouter.ai/api/v1',
    });
    expect(llmOf({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1/' })).toMatchObject({
      provider: 'compatible',
      apiKey: undefined,
      model: 'llama3.1',
      baseUrl: 'http://127.0.0.1:11434/v1',
    });
    expect(llmOf({ OPENAI_API_KEY: 'sk-a', LLM_PROVIDER: 'offline' }).provider).toBe('offline');
  });

  it('maps the model overrides and the numeric settings', () => {
    const llm = llmOf({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: 'http://localhost:8000/v1',
      LLM_API_KEY: 'local-key',
      LLM_MODEL: 'qwen2.5',
      LLM_MODEL_PLANNING: 'big',
      LLM_MODEL_CHAT: 'chatty',
      LLM_MODEL_LOW_PRIORITY: 'tiny',
      LLM_TIMEOUT_MS: '5000',
      LLM_MAX_RETRIES: '2',
    });
    expect(llm).toMatchObject({
      apiKey: 'local-key',
      model: 'qwen2.5',
      purposeModels: { planning: 'big', chat: 'chatty' },
      lowPriorityModel: 'tiny',
      timeoutMs: 5000,
      maxRetries: 2,
    });
    expect(modelFor({ purpose: 'execution', priority: 'LOW' }, llm)).toBe('tiny');
  });

  it('merges LLM_PRICES over the built-in table', () => {
    const llm = llmOf({
      LLM_PRICES: '{"llama3.1": {"input": 0, "output": 0}, "gpt-4o": {"input": 1, "output": 2}}',
    });
    expect(llm.prices['llama3.1']).toEqual({ input: 0, output: 0 });
    expect(llm.prices['gpt-4o']).toEqual({ input: 1, output: 2 });
    expect(llm.prices['gpt-4o-mini']).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
  });

  it('explains a bad LLM_PRICES in one line', () => {
    for (const bad of ['{not json', '[1, 2]', '{"m": {"input": -1, "output": 1}}']) {
      let message = '';
      try {
        loadConfig({ LLM_PRICES: bad });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/^Invalid environment: LLM_PRICES must be JSON such as /);
      expect(message).not.toContain('\n');
    }
    expect(() => loadConfig({ LLM_PRICES: '{"m": {"input": 1}}' })).toThrow(
      /"m" needs non-negative/,
    );
    for (const cached of ['-1', '"x"', 'null']) {
      const bad = `{"m": {"input": 1, "output": 2, "cachedInput": ${cached}}}`;
      expect(() => loadConfig({ LLM_PRICES: bad })).toThrow(/"m" needs .*"cachedInput"/);
    }
    const good = '{"m": {"input": 1, "output": 2, "cachedInput": 0.25}}';
    expect(loadConfig({ LLM_PRICES: good }).llm.prices.m).toEqual({
      input: 1,
      output: 2,
      cachedInput: 0.25,
    });
  });

  it('refuses an LLM_TIMEOUT_MS no timer holds, which timed every call out at once', () => {
    expect(() => loadConfig({ LLM_TIMEOUT_MS: '3000000000' })).toThrow(
      /^Invalid environment: LLM_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 2147483647, but got "3000000000"$/,
    );
    expect(loadConfig({ LLM_TIMEOUT_MS: '2147483647' }).llm.timeoutMs).toBe(2_147_483_647);
  });

  it('names the missing or bad variable and never echoes a key', () => {
    expect(() => loadConfig({ LLM_PROVIDER: 'openai' })).toThrow(
      /^Invalid environment: OPENAI_API_KEY is required when LLM_PROVIDER is openai$/,
    );
    expect(() => loadConfig({ LLM_PROVIDER: 'openrouter', OPENAI_API_KEY: 'sk-x' })).toThrow(
      /OPENROUTER_API_KEY is required/,
    );
    expect(() => loadConfig({ LLM_PROVIDER: 'compatible' })).toThrow(/LLM_BASE_URL is required/);
    // A key and a URL with no provider: refused rather than sending the key to the URL.
    const both = { OPENAI_API_KEY: 'sk-secret-123', LLM_BASE_URL: 'http://127.0.0.1:11434/v1' };
    expect(() => loadConfig(both)).toThrow(/set LLM_PROVIDER to compatible/);
    expect(() => loadConfig(both)).not.toThrow(/sk-secret-123/);
    expect(loadConfig({ ...both, LLM_PROVIDER: 'compatible' }).llm.provider).toBe('compatible');
    expect(() => loadConfig({ LLM_PROVIDER: 'anthropic' })).toThrow(
      /^Invalid environment: LLM_PROVIDER must be one of offline, openai, openrouter, compatible, but got "anthropic"$/,
    );
    expect(() => loadConfig({ LLM_BASE_URL: 'ftp://x' })).toThrow(
      /LLM_BASE_URL must be an http\(s\) URL/,
    );
    expect(() => loadConfig({ LLM_TIMEOUT_MS: '10' })).toThrow(
      /LLM_TIMEOUT_MS must be a whole number/,
    );
    expect(() => loadConfig({ LLM_MAX_RETRIES: '99' })).toThrow(/LLM_MAX_RETRIES must be/);
    const secret = { OPENAI_API_KEY: 'sk-very-secret', LLM_MAX_RETRIES: 'x' };
    expect(() => loadConfig(secret)).toThrow(/LLM_MAX_RETRIES/);
    expect(() => loadConfig(secret)).not.toThrow(/sk-very-secret/);
  });
});

describe('createChatModel', () => {
  it('returns the offline model for the default configuration', () => {
    const llm = llmOf({});
    expect(createChatModel({ purpose: 'planning' }, llm)).toBeInstanceOf(OfflineChatModel);
    expect(describeModel({ purpose: 'planning', agentModel: 'gpt-4o' }, llm)).toEqual({
      provider: 'offline',
      model: OFFLINE_MODEL_NAME,
    });
  });

  it('returns ChatOpenAI for OpenAI, with the model, key, timeout and retries', () => {
    const llm = llmOf({ OPENAI_API_KEY: 'sk-test', LLM_MODEL_PLANNING: 'gpt-4.1-mini' });
    const chat = createChatModel({ purpose: 'planning' }, llm) as ChatOpenAI;
    expect(chat).toBeInstanceOf(ChatOpenAI);
    expect(chat.model).toBe('gpt-4.1-mini');
    expect(chat.apiKey).toBe('sk-test');
    expect(chat.clientConfig.baseURL).toBe('https://api.openai.com/v1');
    expect(chat.timeout).toBe(60_000);
    expect(chat.streamUsage).toBe(true);
    expect(retriesOf(chat)).toBe(0);
    expect(describeModel({ purpose: 'planning' }, llm)).toEqual({
      provider: 'openai',
      model: 'gpt-4.1-mini',
    });
  });

  it('points ChatOpenAI at OpenRouter with openrouter/auto and its headers', () => {
    const chat = createChatModel(
      { purpose: 'chat' },
      llmOf({ OPENROUTER_API_KEY: 'or-test' }),
    ) as ChatOpenAI;
    expect(chat).toBeInstanceOf(ChatOpenAI);
    expect(chat.model).toBe('openrouter/auto');
    expect(chat.apiKey).toBe('or-test');
    expect(chat.clientConfig.baseURL).toBe('https://openrouter.ai/api/v1');
    expect(chat.clientConfig.defaultHeaders).toMatchObject({ 'X-Title': 'agent-platform' });
  });

  it('points ChatOpenAI at a compatible server without sending an OpenAI key', () => {
    const llm = llmOf({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MAX_RETRIES: '3' });
    const chat = createChatModel(
      { purpose: 'execution', agentModel: 'qwen2.5' },
      llm,
    ) as ChatOpenAI;
    expect(chat).toBeInstanceOf(ChatOpenAI);
    expect(chat.model).toBe('qwen2.5');
    expect(chat.clientConfig.baseURL).toBe('http://127.0.0.1:11434/v1');
    expect(chat.apiKey).toBe('not-needed');
    expect(retriesOf(chat)).toBe(3);
  });
});

describe('checkModelReachable', () => {
  let server: Server;
  let base = '';
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      const ok = req.url === '/v1/models' && req.headers.authorization === 'Bearer good-key';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { data: [] } : { error: 'no' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const logger = () => {
    const lines: string[] = [];
    return {
      lines,
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
    };
  };

  it('says the offline model needs no network', async () => {
    const log = logger();
    expect(await checkModelReachable(llmOf({}), log)).toBe(true);
    expect(log.lines).toEqual(['info model: offline (deterministic, no network)']);
  });

  it('asks {baseURL}/models with the key', async () => {
    const log = logger();
    const llm = llmOf({ LLM_BASE_URL: base, LLM_API_KEY: 'good-key' });
    expect(await checkModelReachable(llm, log)).toBe(true);
    expect(seen.at(-1)).toBe('Bearer good-key');
    expect(log.lines.join()).not.toContain('good-key');
  });

  it('warns without throwing when the key is refused or nothing answers', async () => {
    const refused = logger();
    const badKey = llmOf({ LLM_BASE_URL: base, LLM_API_KEY: 'bad-key' });
    expect(await checkModelReachable(badKey, refused)).toBe(false);
    expect(refused.lines).toEqual([
      expect.stringMatching(/^warn WARNING: model compatible at .* the key was refused/),
    ]);
    expect(refused.lines.join()).not.toContain('bad-key');

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = logger();
    const llm = llmOf({ LLM_BASE_URL: `http://127.0.0.1:${port}/v1` });
    expect(await checkModelReachable(llm, down, 1000)).toBe(false);
    expect(down.lines).toEqual([
      expect.stringMatching(/^warn WARNING: .* is unreachable \(ECONNREFUSED\)/),
    ]);
  });
});
