import { z } from 'zod';
import { wholeNumber } from '../../config/env-number.js';
import { timerMs } from '../../config/timer-ms.js';
import { credentialsRefusal, hasCredentials } from '../../config/url-credentials.js';
import { defaultModelDir, LOCAL_MODEL_DIMENSIONS, LOCAL_MODEL_NAME } from './model-files.js';

export type EmbeddingsProvider = 'local' | 'openai' | 'offline';

/** The embedder's settings; createEmbedder (embedder.factory.ts) turns them into an Embedder. */
export interface EmbeddingsConfig {
  provider: EmbeddingsProvider;
  /** The model's name as the endpoint knows it (local: all-MiniLM-L6-v2). */
  model: string;
  /** The vectors' size: the vector indexes are made for it. */
  dimensions: number;
  /** openai: the endpoint without a trailing slash (OpenAI's when unset). */
  baseUrl?: string;
  /** openai: the key sent as Bearer. Never logged: the logger redacts `apiKey`. */
  apiKey?: string;
  /** openai: send `dimensions` in the request (text-embedding-3 models can shorten vectors). */
  sendDimensions: boolean;
  /** local: the folder holding `model/` (EMBEDDINGS_MODEL_DIR). */
  modelDir: string;
  /** openai: one request's time limit. */
  timeoutMs: number;
}

export const OPENAI_EMBEDDINGS_URL = 'https://api.openai.com/v1';
export const DEFAULT_OPENAI_EMBEDDINGS_MODEL = 'text-embedding-3-small';

/** Sizes of well-known models, so EMBEDDINGS_DIMENSIONS is needed only for others. */
export const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = Object.freeze({
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
  'all-minilm': 384,
});

/**
 * The embeddings' environment variables, spread into src/config/config.ts's env schema. Messages
 * read after the variable's name.
 */
export const embeddingsEnvSchema = z.object({
  EMBEDDINGS_PROVIDER: z
    .enum(['local', 'openai', 'offline'], { error: 'must be one of local, openai, offline' })
    .default('local'),
  EMBEDDINGS_MODEL: z.string().trim().min(1, 'must be a model name').optional(),
  EMBEDDINGS_BASE_URL: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http(s) URL such as http://127.0.0.1:11434/v1',
    })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  EMBEDDINGS_API_KEY: z.string().optional(),
  EMBEDDINGS_DIMENSIONS: wholeNumber(1, 4096).optional(),
  EMBEDDINGS_MODEL_DIR: z.string().min(1).optional(),
  EMBEDDINGS_TIMEOUT_MS: timerMs(1000).default(60_000),
});

export type EmbeddingsEnv = z.infer<typeof embeddingsEnvSchema>;

/** A one-line problem with the combination of EMBEDDINGS_* variables, or undefined. */
export function embeddingsEnvProblem(e: EmbeddingsEnv): string | undefined {
  if (e.EMBEDDINGS_BASE_URL && hasCredentials(e.EMBEDDINGS_BASE_URL)) {
    return credentialsRefusal('EMBEDDINGS_BASE_URL', 'EMBEDDINGS_API_KEY');
  }
  if (e.EMBEDDINGS_PROVIDER !== 'openai') {
    if (e.EMBEDDINGS_BASE_URL) {
      return 'EMBEDDINGS_BASE_URL is set but EMBEDDINGS_PROVIDER is not openai: set EMBEDDINGS_PROVIDER=openai to use that endpoint';
    }
    return undefined;
  }
  if (!e.EMBEDDINGS_BASE_URL && !e.EMBEDDINGS_API_KEY) {
    return "EMBEDDINGS_API_KEY is required when EMBEDDINGS_PROVIDER is openai and EMBEDDINGS_BASE_URL is unset (OpenAI's API)";
  }
  const model = e.EMBEDDINGS_MODEL ?? DEFAULT_OPENAI_EMBEDDINGS_MODEL;
  if (!e.EMBEDDINGS_DIMENSIONS && !KNOWN_DIMENSIONS[model]) {
    return `EMBEDDINGS_DIMENSIONS is required for model ${JSON.stringify(model)} (the size of its vectors, e.g. 768): the vector indexes are made for it`;
  }
  return undefined;
}

/** Maps parsed variables (checked by embeddingsEnvProblem) to an EmbeddingsConfig. */
export function embeddingsFromEnv(
  e: EmbeddingsEnv,
  env: NodeJS.ProcessEnv = process.env,
): EmbeddingsConfig {
  const modelDir = defaultModelDir({ ...env, EMBEDDINGS_MODEL_DIR: e.EMBEDDINGS_MODEL_DIR });
  if (e.EMBEDDINGS_PROVIDER !== 'openai') {
    const local = e.EMBEDDINGS_PROVIDER === 'local';
    return {
      provider: e.EMBEDDINGS_PROVIDER,
      model: local ? LOCAL_MODEL_NAME : 'hashed-ngrams-v1',
      dimensions: LOCAL_MODEL_DIMENSIONS,
      sendDimensions: false,
      modelDir,
      timeoutMs: e.EMBEDDINGS_TIMEOUT_MS,
    };
  }
  const model = e.EMBEDDINGS_MODEL ?? DEFAULT_OPENAI_EMBEDDINGS_MODEL;
  return {
    provider: 'openai',
    model,
    dimensions: e.EMBEDDINGS_DIMENSIONS ?? KNOWN_DIMENSIONS[model]!,
    baseUrl: e.EMBEDDINGS_BASE_URL ?? OPENAI_EMBEDDINGS_URL,
    apiKey: e.EMBEDDINGS_API_KEY,
    // Only OpenAI's text-embedding-3 models accept `dimensions`; for others it names their size.
    sendDimensions: e.EMBEDDINGS_DIMENSIONS !== undefined && model.startsWith('text-embedding-3'),
    modelDir,
    timeoutMs: e.EMBEDDINGS_TIMEOUT_MS,
  };
}
