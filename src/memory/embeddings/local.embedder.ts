import type { Embedder } from './embedder.js';
import { BatchQueue } from './batch-queue.js';
import { LOCAL_MODEL_DIMENSIONS, LOCAL_MODEL_NAME, MODEL_ID, modelPresent } from './model-files.js';
import { embedderId, normalise } from './vectors.js';

/** The parts of transformers.js's Tensor used here. */
interface Tensor {
  dims: number[];
  data: ArrayLike<number>;
  normalize(p: number, dim: number): Tensor;
}

/** The parts of transformers.js's feature-extraction pipeline used here. */
interface Extractor {
  tokenizer(
    texts: string[],
    options: { padding: boolean; truncation: boolean; max_length: number },
  ): { attention_mask: Tensor } & Record<string, Tensor>;
  model(inputs: Record<string, Tensor>): Promise<{ last_hidden_state: Tensor }>;
  dispose(): Promise<void>;
}

type MeanPooling = (hidden: Tensor, mask: Tensor) => Tensor;

/** Texts per inference: large enough to use both cores, small enough to abort between. */
const BATCH_SIZE = 32;

/**
 * Tokens per text: the model was trained on 256 (sentence-transformers' max_seq_length), though
 * its tokenizer allows 512; longer texts are cut, as sentence-transformers cuts them.
 */
export const MAX_TOKENS = 256;

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

  private constructor(
    private readonly extractor: Extractor,
    private readonly meanPooling: MeanPooling,
  ) {
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
    const { env, mean_pooling, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = modelDir;
    const extractor = (await pipeline('feature-extraction', MODEL_ID, {
      dtype: 'q8',
    })) as unknown as Extractor;
    return new LocalEmbedder(extractor, mean_pooling as unknown as MeanPooling);
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

  /** Frees the ONNX session. */
  dispose(): Promise<void> {
    return this.extractor.dispose();
  }

  private async run(texts: string[]): Promise<number[][]> {
    // The pipeline's own call, with the tokenizer's length cut to MAX_TOKENS.
    const inputs = this.extractor.tokenizer(texts, {
      padding: true,
      truncation: true,
      max_length: MAX_TOKENS,
    });
    const { last_hidden_state } = await this.extractor.model(inputs);
    const out = this.meanPooling(last_hidden_state, inputs.attention_mask).normalize(2, -1);
    const dims = this.dimensions;
    const vectors: number[][] = [];
    // Normalised again in float64: the model's float32 norm is 1 only to ~1e-7.
    for (let i = 0; i < texts.length; i++) {
      vectors.push(normalise(Array.prototype.slice.call(out.data, i * dims, (i + 1) * dims)));
    }
    return vectors;
  }
}
