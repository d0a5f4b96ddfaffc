import { Worker } from 'node:worker_threads';
import type { Embedder } from './embedder.js';
import { BatchQueue } from './batch-queue.js';
import { LOCAL_MODEL_DIMENSIONS, LOCAL_MODEL_NAME, MODEL_ID, modelPresent } from './model-files.js';
import { embedderId, normalise } from './vectors.js';

/** A reply of local.worker.mjs: the batch's vectors, flat, or why it failed. */
type WorkerReply = { id: number; data?: Float32Array; error?: string };

/** Texts per inference: large enough to use both cores, small enough to abort between. */
const BATCH_SIZE = 32;

/**
 * Tokens per text: the model was trained on 256 (sentence-transformers' max_seq_length), though
 * its tokenizer allows 512; longer texts are cut, as sentence-transformers cuts them.
 */
export const MAX_TOKENS = 256;

/**
 * all-MiniLM-L6-v2 (int8 ONNX) through transformers.js on onnxruntime-node, in a worker thread
 * (local.worker.mjs) so that inference never holds the event loop: no network, ever (remote
 * models are off; the files come from `npm run models:fetch`).
 */
export class LocalEmbedder implements Embedder {
  readonly provider = 'local' as const;
  readonly model = LOCAL_MODEL_NAME;
  readonly dimensions = LOCAL_MODEL_DIMENSIONS;
  readonly offline = false;
  readonly id = embedderId('local', LOCAL_MODEL_NAME, LOCAL_MODEL_DIMENSIONS);
  private readonly queue: BatchQueue;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();
  private nextId = 0;
  /** The worker in use; none after it died, until the next batch starts another. */
  private worker: Promise<Worker> | undefined;
  private disposed = false;

  private constructor(
    private readonly modelDir: string,
    first: Worker,
  ) {
    this.queue = new BatchQueue(BATCH_SIZE, (texts) => this.run(texts));
    this.worker = Promise.resolve(this.watch(first));
  }

  /**
   * Loads the model from `<modelDir>/model/` in a worker thread. Throws when the files are
   * missing (with the command that fetches them) or cannot be loaded.
   */
  static async load(modelDir: string): Promise<LocalEmbedder> {
    if (!modelPresent(modelDir)) {
      throw new Error(
        `the local embedding model is not in ${modelDir}: run npm run models:fetch (or set EMBEDDINGS_MODEL_DIR)`,
      );
    }
    return new LocalEmbedder(modelDir, await startWorker(modelDir));
  }

  /**
   * Routes the worker's replies. When it dies (out of memory, say), the batches it held fail and
   * the next batch starts a new one: one crash no longer failed every later embedding.
   */
  private watch(worker: Worker): Worker {
    worker.on('message', (reply: WorkerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    let gone = false;
    const end = (err: Error) => {
      if (gone) return;
      gone = true;
      for (const settle of this.pending.values()) settle({ id: -1, error: err.message });
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', end);
    worker.on('exit', (code) => end(new Error(`the local embedding worker exited (${code})`)));
    // Idle, it keeps no process alive; a batch in flight holds a pending promise instead.
    worker.unref();
    return worker;
  }

  /** Texts of like length share batches (less padding to compute); results in input order. */
  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    const sorted = await this.queue.embed(
      order.map((i) => texts[i]!),
      signal,
    );
    const out = new Array<number[]>(texts.length);
    order.forEach((i, j) => (out[i] = sorted[j]!));
    return out;
  }

  /**
   * Lets the batch in flight finish, then frees the ONNX session and ends the worker; later
   * batches fail. A process should call it before it exits: exiting during an inference aborts.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = await this.worker?.catch(() => undefined);
    if (!worker || !this.worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Held until it ends: unreferenced, an idle process exited with the dispose unsettled.
    worker.ref();
    worker.postMessage({ dispose: true });
    await exited;
  }

  private async run(texts: string[]): Promise<number[][]> {
    if (this.disposed) throw new Error('the local embedding model was disposed');
    this.worker ??= startWorker(this.modelDir).then((w) => this.watch(w));
    const worker = await this.worker.catch((err: unknown) => {
      this.worker = undefined; // the next batch tries again
      throw err;
    });
    const id = this.nextId++;
    worker.ref();
    const reply = await new Promise<WorkerReply>((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, texts, maxTokens: MAX_TOKENS });
    }).finally(() => {
      if (this.pending.size === 0 && !this.disposed) worker.unref();
    });
    if (!reply.data) throw new Error(`the local embedding model failed: ${reply.error}`);
    const dims = this.dimensions;
    const vectors: number[][] = [];
    // Normalised again in float64: the model's float32 norm is 1 only to ~1e-7.
    for (let i = 0; i < texts.length; i++) {
      vectors.push(normalise(Array.prototype.slice.call(reply.data, i * dims, (i + 1) * dims)));
    }
    return vectors;
  }
}

/** A worker with the model loaded (local.worker.mjs); throws when it cannot load it. */
async function startWorker(modelDir: string): Promise<Worker> {
  const worker = new Worker(new URL('./local.worker.mjs', import.meta.url), {
    workerData: { modelDir, modelId: MODEL_ID },
  });
  const ready = await new Promise<{ ready: boolean; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    // Ended before a word (out of memory, say): without it, the start waited for good.
    worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) while loading`)));
  });
  if (!ready.ready) {
    await worker.terminate();
    throw new Error(`the local embedding model in ${modelDir} could not be loaded: ${ready.error}`);
  }
  return worker;
}
