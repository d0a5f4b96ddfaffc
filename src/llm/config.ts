import { z } from 'zod';
import { wholeNumber } from '../config/env-number.js';
import { timerMs } from '../config/timer-ms.js';
import { credentialsRefusal, hasCredentials } from '../config/url-credentials.js';
import { DEFAULT_PRICES, type PriceTable } from './pricing.js';
import type { ModelRouting, Purpose } from './routing.js';

export type LlmProvider = 'offline' | 'openai' | 'openrouter' | 'compatible';

/** The model layer's settings; src/llm/models.ts turns them into chat models. */
export interface LlmConfig extends ModelRouting {
  provider: LlmProvider;
  /** The chosen provider's key. Never logged: the logger redacts `apiKey`. */
  apiKey?: string;
  /** The OpenAI-compatible endpoint, without a trailing slash; unset for offline. */
  baseUrl?: string;
  /** LLM_TIMEOUT_MS: 60 s by default, 300 s for a compatible (usually local) server. */
  timeoutMs: number;
  /** Retries inside one call; 0 by default because the engine retries steps with backoff. */
  maxRetries: number;
  /** LLM_OFFLINE_DELAY_MS: how long each offline model call takes (0: it answers at once). */
  offlineDelayMs: number;
  prices: PriceTable;
  /** max_tokens of every call, per purpose (LLM_MAX_TOKENS_<PURPOSE>): a looping model stops. */
  maxTokens: Readonly<Record<Purpose, number>>;
  /** How structured output is asked for (LLM_STRUCTURED_OUTPUT); see src/llm/structured.ts. */
  structuredOutput: StructuredOutputSetting;
}

/** LLM_STRUCTURED_OUTPUT: one mode, or `auto` (json_schema, weaker on a 400, per model). */
export type StructuredOutputSetting = 'auto' | StructuredMode;
export type StructuredMode = 'json_schema' | 'function_calling' | 'json_mode' | 'prompt';
export const STRUCTURED_MODES: readonly StructuredMode[] = Object.freeze([
  'json_schema',
  'function_calling',
  'json_mode',
  'prompt',
]);

/**
 * max_tokens per purpose when LLM_MAX_TOKENS_<PURPOSE> is unset: room for a 20-step plan or a
 * page of answer, and a bound on a model that repeats itself until the timeout (issue 10).
 */
export const DEFAULT_MAX_TOKENS: Readonly<Record<Purpose, number>> = Object.freeze({
  planning: 4096,
  execution: 2048,
  evaluation: 1024,
  extraction: 1024,
  synthesis: 4096,
  chat: 2048,
  // Entities and facts of one episode (a chunk of about 1500 characters) as JSON.
  memory: 2048,
  // A lesson, or an agent's revised instructions with their rationale.
  reflection: 2048,
});

/** LLM_TIMEOUT_MS when unset: a local model on a CPU takes minutes where a hosted one takes s. */
export const DEFAULT_TIMEOUT_MS: Readonly<Record<LlmProvider, number>> = Object.freeze({
  offline: 60_000,
  openai: 60_000,
  openrouter: 60_000,
  compatible: 300_000,
});

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

/** LLM_MODEL when unset, per provider. */
export const DEFAULT_MODELS: Readonly<Record<LlmProvider, string>> = Object.freeze({
  offline: 'offline',
  openai: 'gpt-4o-mini',
  openrouter: 'openrouter/auto',
  compatible: 'llama3.1',
});

const PRICES_CONTRACT =
  'must be JSON such as {"my-model": {"input": 0.5, "output": 1.5}} (USD per 1M tokens)';

/** LLM_PRICES: a JSON object of model -> { input, output }, both non-negative numbers. */
const prices = z
  .string()
  .transform((text, ctx): Record<string, { input: number; output: number }> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${PRICES_CONTRACT}; it is not valid JSON` });
      return z.NEVER;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `${PRICES_CONTRACT}; it is not an object` });
      return z.NEVER;
    }
    const price = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
    for (const [model, entry] of Object.entries(value)) {
      const ok =
        typeof entry === 'object' &&
        entry !== null &&
        price(entry.input) &&
        price(entry.output) &&
        (!('cachedInput' in entry) || price(entry.cachedInput));
      if (!ok) {
        ctx.addIssue({
          code: 'custom',
          message: `${PRICES_CONTRACT}; ${JSON.stringify(model)} needs non-negative numbers "input" and "output" (and "cachedInput", if given)`,
        });
        return z.NEVER;
      }
    }
    return value as Record<string, { input: number; output: number }>;
  });

const modelName = z.string().trim().min(1, 'must be a model name').optional();

const maxTokens = wholeNumber(
  16,
  200_000,
  'must be a whole number of tokens from 16 to 200000',
).optional();

/**
 * The environment variables of the model layer, meant to be spread into src/config/config.ts's env
 * schema. Messages read after the variable's name.
 */
export const llmEnvSchema = z.object({
  LLM_PROVIDER: z
    .enum(['offline', 'openai', 'openrouter', 'compatible'], {
      error: 'must be one of offline, openai, openrouter, compatible',
    })
    .optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENROUTER_API_KEY: z.string().optional(),
  LLM_API_KEY: z.string().optional(),
  LLM_BASE_URL: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http(s) URL such as http://127.0.0.1:11434/v1',
    })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  LLM_MODEL: modelName,
  LLM_MODEL_PLANNING: modelName,
  LLM_MODEL_EXECUTION: modelName,
  LLM_MODEL_EVALUATION: modelName,
  LLM_MODEL_EXTRACTION: modelName,
  LLM_MODEL_SYNTHESIS: modelName,
  LLM_MODEL_CHAT: modelName,
  LLM_MODEL_MEMORY: modelName,
  LLM_MODEL_REFLECTION: modelName,
  LLM_MODEL_LOW_PRIORITY: modelName,
  LLM_MAX_TOKENS_PLANNING: maxTokens,
  LLM_MAX_TOKENS_EXECUTION: maxTokens,
  LLM_MAX_TOKENS_EVALUATION: maxTokens,
  LLM_MAX_TOKENS_EXTRACTION: maxTokens,
  LLM_MAX_TOKENS_SYNTHESIS: maxTokens,
  LLM_MAX_TOKENS_CHAT: maxTokens,
  LLM_MAX_TOKENS_MEMORY: maxTokens,
  LLM_MAX_TOKENS_REFLECTION: maxTokens,
  LLM_STRUCTURED_OUTPUT: z
    .enum(['auto', 'json_schema', 'function_calling', 'json_mode', 'prompt'], {
      error: 'must be one of auto, json_schema, function_calling, json_mode, prompt',
    })
    .default('auto'),
  LLM_TIMEOUT_MS: timerMs(1000).optional(),
  LLM_MAX_RETRIES: wholeNumber(0, 10).default(0),
  LLM_OFFLINE_DELAY_MS: timerMs(0, 600_000).default(0),
  LLM_PRICES: prices.optional(),
});

export type LlmEnv = z.infer<typeof llmEnvSchema>;

/**
 * The provider: LLM_PROVIDER, else inferred from what is set (OPENAI_API_KEY, then
 * OPENROUTER_API_KEY, then LLM_BASE_URL), else offline.
 */
export function llmProvider(e: LlmEnv): LlmProvider {
  if (e.LLM_PROVIDER) return e.LLM_PROVIDER;
  if (e.OPENAI_API_KEY) return 'openai';
  if (e.OPENROUTER_API_KEY) return 'openrouter';
  if (e.LLM_BASE_URL) return 'compatible';
  return 'offline';
}

/** A one-line problem with the combination of LLM variables, or undefined. Names no secret. */
export function llmEnvProblem(e: LlmEnv): string | undefined {
  // A key must never be sent to a URL by accident: say which provider the URL belongs to.
  if (!e.LLM_PROVIDER && e.LLM_BASE_URL && (e.OPENAI_API_KEY || e.OPENROUTER_API_KEY)) {
    return 'LLM_BASE_URL and a provider key are both set: set LLM_PROVIDER to compatible (the URL is your own server) or to openai/openrouter (the URL is a proxy that gets that key)';
  }
  if (e.LLM_BASE_URL && hasCredentials(e.LLM_BASE_URL)) {
    return credentialsRefusal('LLM_BASE_URL', 'LLM_API_KEY');
  }
  const provider = llmProvider(e);
  if (provider === 'openai' && !e.OPENAI_API_KEY) {
    return 'OPENAI_API_KEY is required when LLM_PROVIDER is openai';
  }
  if (provider === 'openrouter' && !e.OPENROUTER_API_KEY) {
    return 'OPENROUTER_API_KEY is required when LLM_PROVIDER is openrouter';
  }
  if (provider === 'compatible' && !e.LLM_BASE_URL) {
    return 'LLM_BASE_URL is required when LLM_PROVIDER is compatible (e.g. http://127.0.0.1:11434/v1 for Ollama)';
  }
  return undefined;
}

/** Maps parsed variables (llmEnvSchema's output, checked by llmEnvProblem) to an LlmConfig. */
export function llmFromEnv(e: LlmEnv): LlmConfig {
  const provider = llmProvider(e);
  const purposeModels: Partial<Record<Purpose, string>> = {};
  const overrides: Array<[Purpose, string | undefined]> = [
    ['planning', e.LLM_MODEL_PLANNING],
    ['execution', e.LLM_MODEL_EXECUTION],
    ['evaluation', e.LLM_MODEL_EVALUATION],
    ['extraction', e.LLM_MODEL_EXTRACTION],
    ['synthesis', e.LLM_MODEL_SYNTHESIS],
    ['chat', e.LLM_MODEL_CHAT],
    ['memory', e.LLM_MODEL_MEMORY],
    ['reflection', e.LLM_MODEL_REFLECTION],
  ];
  for (const [purpose, model] of overrides) if (model) purposeModels[purpose] = model;
  const apiKey = {
    offline: undefined,
    openai: e.OPENAI_API_KEY,
    openrouter: e.OPENROUTER_API_KEY,
    compatible: e.LLM_API_KEY,
  }[provider];
  const baseUrl = {
    offline: undefined,
    openai: e.LLM_BASE_URL ?? OPENAI_BASE_URL,
    openrouter: e.LLM_BASE_URL ?? OPENROUTER_BASE_URL,
    compatible: e.LLM_BASE_URL,
  }[provider];
  return {
    provider,
    apiKey,
    baseUrl,
    model: e.LLM_MODEL ?? DEFAULT_MODELS[provider],
    purposeModels,
    lowPriorityModel: e.LLM_MODEL_LOW_PRIORITY,
    timeoutMs: e.LLM_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS[provider],
    maxRetries: e.LLM_MAX_RETRIES,
    offlineDelayMs: e.LLM_OFFLINE_DELAY_MS,
    prices: Object.freeze({ ...DEFAULT_PRICES, ...e.LLM_PRICES }),
    maxTokens: Object.freeze({
      planning: e.LLM_MAX_TOKENS_PLANNING ?? DEFAULT_MAX_TOKENS.planning,
      execution: e.LLM_MAX_TOKENS_EXECUTION ?? DEFAULT_MAX_TOKENS.execution,
      evaluation: e.LLM_MAX_TOKENS_EVALUATION ?? DEFAULT_MAX_TOKENS.evaluation,
      extraction: e.LLM_MAX_TOKENS_EXTRACTION ?? DEFAULT_MAX_TOKENS.extraction,
      synthesis: e.LLM_MAX_TOKENS_SYNTHESIS ?? DEFAULT_MAX_TOKENS.synthesis,
      chat: e.LLM_MAX_TOKENS_CHAT ?? DEFAULT_MAX_TOKENS.chat,
      memory: e.LLM_MAX_TOKENS_MEMORY ?? DEFAULT_MAX_TOKENS.memory,
      reflection: e.LLM_MAX_TOKENS_REFLECTION ?? DEFAULT_MAX_TOKENS.reflection,
    }),
    structuredOutput: e.LLM_STRUCTURED_OUTPUT,
  };
}
