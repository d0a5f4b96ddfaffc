import { AsyncLocalStorage } from 'node:async_hooks';
import { OpenAIEmbeddings } from '@langchain/openai';
import { withoutCredentials } from '../../config/url-credentials.js';
import type { Embedder } from './embedder.js';
import type { EmbeddingsConfig } from './config.js';
import { BatchQueue } from './batch-queue.js';
import { embedderId, normalise } from './vectors.js';

/** Texts per request: OpenAI takes up to 2048; local servers (Ollama, vLLM) prefer fewer. */
const BATCH_SIZE = 128;

/**
 * Any OpenAI-compatible `/embeddings` endpoint (OpenAI, OpenRouter, Ollama, vLLM) through
 * LangChain's OpenAIEmbeddings. Vectors are checked for the configured size and normalised
 * (not every server returns unit vectors).
 */
export class OpenAIEmbedder implements Embedder {
  readonly provider = 'openai' as const;
  readonly offline = false;
  readonly id: string;
  readonly model: string;
  readonly dimensions: number;
  /** Where the requests go, for logs and errors: credentials in the URL as `***@`. */
  readonly endpoint: string;
  private readonly client: OpenAIEmbeddings;
  private readonly queue: BatchQueue;
  /** The signal of the batch being sent: LangChain's embedDocuments takes none. */
  private readonly signals = new AsyncLocalStorage<AbortSignal | undefined>();

  constructor(
    config: Pick<
      EmbeddingsConfig,
      'model' | 'dimensions' | 'baseUrl' | 'apiKey' | 'sendDimensions' | 'timeoutMs'
    >,
  ) {
    this.model = config.model;
    this.dimensions = config.dimensions;
    this.endpoint = config.baseUrl ? withoutCredentials(config.baseUrl) : "OpenAI's API";
    this.id = embedderId('openai', config.model, config.dimensions);
    const signals = this.signals;
    const fetchWithSignal: typeof fetch = (input, init) => {
      const signal = signals.getStore();
      if (!signal) return fetch(input, init);
      const both = init?.signal ? AbortSignal.any([init.signal, signal]) : signal;
      return fetch(input, { ...init, signal: both });
    };
    this.client = new OpenAIEmbeddings({
      model: config.model,
      // Ollama and vLLM need no key, but OpenAI's client refuses to start without one.
      apiKey: config.apiKey || 'no-key',
      dimensions: config.sendDimensions ? config.dimensions : undefined,
      // Every server speaks float; base64 (the client's default) is not universal.
      encodingFormat: 'float',
      batchSize: BATCH_SIZE,
      timeout: config.timeoutMs,
      maxRetries: 2,
      configuration: { baseURL: config.baseUrl, fetch: fetchWithSignal },
    });
    this.queue = new BatchQueue(BATCH_SIZE, (texts, signal) => this.run(texts, signal));
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.queue.embed(texts, signal);
  }

  private async run(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    let raw: number[][];
    try {
      raw = await this.signals.run(signal, () => this.client.embedDocuments(texts));
    } catch (err) {
      if (signal?.aborted) throw err;
      // The client says only "Connection error.": an episode's error must say whose.
      throw new Error(
        `embeddings request to ${this.endpoint} (model ${this.model}) failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return raw.map((vector, i) => {
      if (vector.length !== this.dimensions) {
        throw new Error(
          `embedding model ${this.model} returned ${vector.length} dimensions for text ${i}, but EMBEDDINGS_DIMENSIONS is ${this.dimensions}: set it to ${vector.length}`,
        );
      }
      return normalise(vector);
    });
  }
}
