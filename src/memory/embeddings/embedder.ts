import type { EmbeddingsConfig } from './config.js';
import { LocalEmbedder } from './local.embedder.js';
import { fetchModel } from './model-fetch.js';
import { modelPresent } from './model-files.js';
import { OfflineEmbedder } from './offline.embedder.js';
import { OpenAIEmbedder } from './openai.embedder.js';

/**
 * The embedder contract (issue 11). Every implementation (local ONNX model, OpenAI-compatible
 * endpoint, deterministic offline) keeps all of these promises; test/embeddings*.test.ts runs
 * the same contract suite against each.
 *
 * - **Ordering**: `embed(texts)` resolves to one vector per text, in input order.
 * - **Batching**: callers pass any number of texts; the implementation splits them into batches
 *   of its own size.
 * - **Back-pressure**: at most one batch is in flight per instance; further calls wait their
 *   turn in a FIFO queue (so a burst of ingestion never runs N model inferences at once).
 * - **Aborts**: an aborted `signal` rejects the call soon after (an AbortError, `signal.reason`
 *   when set), whether it is queued or running; a batch already running inside a model is left
 *   to finish in the background and its result is dropped. No batch of an aborted call starts.
 * - **Idempotence**: for a given `id`, the same text gives the same vector (up to float
 *   rounding: batches pad). Two embedders with different ids never share a vector space, which
 *   is why vectors are stored per id (graph/memory/vector.repository.ts).
 * - **Unit length**: every vector has `dimensions` entries and length 1 (cosine = dot product).
 * - **Backend down**: `embed` rejects (it never returns made-up vectors); the offline embedder
 *   has no backend and never fails.
 * - **Dispose**: `dispose()`, where there is one, lets the batch in flight finish, then frees
 *   the model; later calls reject. A process calls it before it exits.
 */
export interface Embedder {
  /** provider:model:dimensions, e.g. "local:all-MiniLM-L6-v2:384". */
  readonly id: string;
  readonly provider: 'local' | 'openai' | 'offline';
  readonly model: string;
  readonly dimensions: number;
  /** True only for the deterministic hashed n-gram embedder (no real model). */
  readonly offline: boolean;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  /** Frees a model held in this process (the local one); see the contract above. */
  dispose?(): Promise<void>;
}

/** Where createEmbedder reports what it chose (a pino logger fits). */
export interface EmbedderLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface CreateEmbedderOptions {
  log?: EmbedderLog;
  /** local: fetch the model first when its folder is empty (npm start, workers). */
  fetchIfMissing?: boolean;
}

/**
 * The embedder the config asks for. `local` falls back to the offline embedder, with a warning
 * naming the fix, when the model cannot be had (never a failed start); `openai` is not called
 * here (an unreachable endpoint fails the first embed, not the start).
 */
export async function createEmbedder(
  config: EmbeddingsConfig,
  options: CreateEmbedderOptions = {},
): Promise<Embedder> {
  const log = options.log ?? { info: () => {}, warn: () => {} };
  if (config.provider === 'openai') {
    const embedder = new OpenAIEmbedder(config);
    log.info(`embeddings: ${embedder.id} at ${embedder.endpoint}`);
    return embedder;
  }
  if (config.provider === 'offline') {
    const embedder = new OfflineEmbedder();
    log.info(
      `embeddings: ${embedder.id} (offline: deterministic hashed n-grams, EMBEDDINGS_PROVIDER=offline)`,
    );
    return embedder;
  }
  if (options.fetchIfMissing && !modelPresent(config.modelDir)) {
    try {
      await fetchModel({ dir: config.modelDir, log: (line) => log.info(line) });
    } catch (err) {
      log.warn(`embeddings: ${(err as Error).message}`);
    }
  }
  try {
    const embedder = await LocalEmbedder.load(config.modelDir);
    log.info(`embeddings: ${embedder.id} (in a worker thread, from ${config.modelDir})`);
    return embedder;
  } catch (err) {
    const embedder = new OfflineEmbedder();
    log.warn(
      `WARNING: embeddings: ${embedder.id} (offline: deterministic hashed n-grams, no real model) because the local model is unavailable: ${(err as Error).message}. Fix: npm run models:fetch, or set EMBEDDINGS_PROVIDER=openai`,
    );
    return embedder;
  }
}
