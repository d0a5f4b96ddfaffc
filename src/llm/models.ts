import type { Callbacks } from '@langchain/core/callbacks/manager';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { CallGuard } from './call-guard.js';
import { PlatformChatOpenAI } from './chat-openai.js';
import type { LlmConfig, LlmProvider } from './config.js';
import { OFFLINE_MODEL_NAME, OfflineChatModel } from './offline-model.js';
import { modelFor, type ModelRequest } from './routing.js';
import { withoutCredentials } from '../config/url-credentials.js';
import { innermostReason } from '../domain/error-causes.js';

/** OpenRouter's optional attribution headers (https://openrouter.ai/docs). */
export const OPENROUTER_HEADERS = Object.freeze({
  'HTTP-Referer': 'http://localhost',
  'X-Title': 'agent-platform',
});

/**
 * OpenAI's reasoning models (o1, o3, o4-mini, gpt-5 but not gpt-5-chat), which refuse a
 * temperature (HTTP 400): an agent version's temperature is not sent to them. The names
 * @langchain/openai sends max_completion_tokens for instead of max_tokens, here also behind a
 * vendor (OpenRouter's openai/o4-mini).
 */
const REASONING = /^(?:[\w.-]+\/)?(o\d|gpt-[56](?!-chat))/;

/** Sent to servers that need no key (Ollama, vLLM, LM Studio), which ChatOpenAI requires. */
const NO_KEY = 'not-needed';

/**
 * Which provider and model a call uses, for logs and LLMCall records. The offline provider
 * always reports `offline/deterministic-v1`, whatever model an agent names.
 */
export function describeModel(
  request: ModelRequest,
  llm: LlmConfig,
): { provider: LlmProvider; model: string } {
  if (llm.provider === 'offline') return { provider: 'offline', model: OFFLINE_MODEL_NAME };
  return { provider: llm.provider, model: modelFor(request, llm) };
}

type Log = { info(msg: string): void; warn(msg: string): void };
/** pino's shape: where structured-output modes and text tool calls are logged. */
type ObjectLog = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/**
 * The chat model for one call: the offline model for provider offline, else ChatOpenAI
 * (PlatformChatOpenAI: named timeouts, text tool calls, strict structured output with
 * fallbacks) against the provider's OpenAI-compatible endpoint, with the purpose's max_tokens
 * (LLM_MAX_TOKENS_<PURPOSE>). The key and base URL are always passed explicitly, so
 * OPENAI_API_KEY/OPENAI_BASE_URL from the environment never reach another provider.
 * `guard` is asked before each call, that of the model and of those derived from it, and may
 * refuse it (the budgets: call-guard.ts). Creating a model makes no request.
 */
export function createChatModel(
  request: ModelRequest,
  llm: LlmConfig,
  callbacks?: Callbacks,
  log?: ObjectLog,
  guard?: CallGuard,
): BaseChatModel {
  if (llm.provider === 'offline') {
    return new OfflineChatModel({ callbacks, delayMs: llm.offlineDelayMs, guard });
  }
  const model = modelFor(request, llm);
  return new PlatformChatOpenAI(
    {
      model,
      apiKey: llm.apiKey ?? NO_KEY,
      configuration: {
        baseURL: llm.baseUrl,
        defaultHeaders: llm.provider === 'openrouter' ? { ...OPENROUTER_HEADERS } : undefined,
      },
      timeout: llm.timeoutMs,
      maxRetries: llm.maxRetries,
      maxTokens: llm.maxTokens[request.purpose],
      ...(request.temperature == null || REASONING.test(model)
        ? {}
        : { temperature: request.temperature }),
      streamUsage: true,
      callbacks,
    },
    {
      where: `${model} at ${safeUrl(llm.baseUrl)}`,
      timeoutMs: llm.timeoutMs,
      purpose: request.purpose,
      maxTokens: llm.maxTokens[request.purpose],
      structuredOutput: llm.structuredOutput,
      log,
      guard,
    },
  );
}

/**
 * A startup check: GET {baseUrl}/models with the key, 5 s timeout. Logs a WARNING and returns
 * false when the endpoint cannot be reached or refuses the key; never throws, so the product
 * starts anyway (calls fail later, and the engine retries them). Offline: logs and returns true.
 */
export async function checkModelReachable(
  llm: LlmConfig,
  logger: Log,
  timeoutMs = 5000,
): Promise<boolean> {
  if (llm.provider === 'offline') {
    logger.info('model: offline (deterministic, no network)');
    return true;
  }
  const where = `${llm.provider} at ${safeUrl(llm.baseUrl)} (model ${llm.model})`;
  try {
    const response = await fetch(`${llm.baseUrl}/models`, {
      headers: {
        ...(llm.apiKey ? { authorization: `Bearer ${llm.apiKey}` } : {}),
        ...(llm.provider === 'openrouter' ? OPENROUTER_HEADERS : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) {
      const why =
        response.status === 401 || response.status === 403
          ? 'the key was refused'
          : `it answered HTTP ${response.status}`;
      logger.warn(`WARNING: model ${where} is not usable: ${why}; model calls will fail`);
      return false;
    }
    logger.info(`model: ${where}`);
    return true;
  } catch (error) {
    const why =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : describeError(error);
    logger.warn(`WARNING: model ${where} is unreachable (${why}); model calls will fail`);
    return false;
  }
}

/** Where the model's requests go, for logs and errors. */
function safeUrl(url: string | undefined): string {
  return url ? withoutCredentials(url) : '(no URL)';
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return innermostReason(error) ?? error.message;
}
