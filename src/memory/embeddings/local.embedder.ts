import type { Embedder } from './embedder.js';
import { BatchQueue } from './batch-queue.js';
import { LOCAL_MODEL_DIMENSIONS, LOCAL_MODEL_NAME, MODEL_ID, modelPresent } from './model-files.js';
import { embedderId, normalise } from './vectors.js';

/** What transformers.js's feature-extraction pipeline gives back (a Tensor). */
interface Extractor {
  (
    texts: string[],
    options: { pooling: 'mean'; normalize: boolean },
  ): Promise<{ dims: number[]; data: ArrayLike<number> }>;
  dispose(): Promise<void>;
}

/** Texts per inference: large enough to use both cores, small enough to abort between. */
const BATCH_SIZE = 32;

/**
 * all-MiniLM-L6-v2 (int8 ONNX) in-process through transformers.js on onnxruntime-node: no
 * network, ever (remote models are off; the files come from `npm run models:fetch`).
 */
export class LocalEmbedder implements Embedder {
  readonly provider = 'local' as const;
  readonly model = LOCAL_MODEL_NAME;
  readonly dimensions = LOCAL_MODEL_DIMENSIONS;
  readonly offline = false;
  readonly id = embedderId('local', LOCAL_MODEL_NAME, LOCAL_MODEL_DIMENSIONS);
  private readonly queue: BatchQueue;

  private constructor(private readonly extractor: Extractor) {
    this.queue = new BatchQueue(BATCH_SIZE, (texts) => this.run(texts));
  }

  /**
   * Loads the model from `<modelDir>/model/`. Throws when the files are missing (with the
   * command that fetches them) or cannot be loaded.
   */
  static async load(modelDir: string): Promise<LocalEmbedder> {
    if (!modelPresent(modelDir)) {
      throw new Error(
        `the local embedding model is not in ${modelDir}: run npm run models:fetch (or set EMBEDDINGS_MODEL_DIR)`,
      );
    }
    // Imported here, so processes that never embed locally never load onnxruntime.
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = modelDir;
    const extractor = (await pipeline('feature-extraction', MODEL_ID, {
      dtype: 'q8',
    })) as unknown as Extractor;
    return new LocalEmbedder(extractor);
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.queue.embed(texts, signal);
  }

  /** Frees the ONNX session. */
  dispose(): Promise<void> {
    return this.extractor.dispose();
  }

  private async run(texts: string[]): Promise<number[][]> {
    const out = await this.extractor(texts, { pooling: 'mean', normalize: true });
    const dims = this.dimensions;
    const vectors: number[][] = [];
    // Normalised again in float64: the model's float32 norm is 1 only to ~1e-7.
    for (let i = 0; i < texts.length; i++) {
      vectors.push(normalise(Array.prototype.slice.call(out.data, i * dims, (i + 1) * dims)));
    }
    return vectors;
  }
}
