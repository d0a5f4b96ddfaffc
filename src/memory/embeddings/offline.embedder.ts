import type { Embedder } from './embedder.js';
import { BatchQueue } from './batch-queue.js';
import { embedderId, normalise } from './vectors.js';

export const OFFLINE_EMBEDDER_MODEL = 'hashed-ngrams-v1';
export const OFFLINE_EMBEDDER_DIMENSIONS = 384;

/** FNV-1a, 32 bits: stable across processes and platforms (no seed). */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Lower-case words without accents or punctuation. */
function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/**
 * Hashes word unigrams, bigrams and character trigrams of each word into `dims` buckets with a
 * hashed sign (the hashing trick), then normalises. Texts sharing words or word stems get
 * similar vectors; it knows nothing of meaning ("cat" and "feline" are unrelated to it).
 */
export function hashedNgramVector(text: string, dims = OFFLINE_EMBEDDER_DIMENSIONS): number[] {
  const v = new Float64Array(dims);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    const sign = fnv1a(feature, 0x9e3779b9) & 1 ? 1 : -1;
    v[h % dims]! += sign * weight;
  };
  const ws = words(text);
  for (let i = 0; i < ws.length; i++) {
    add(`w:${ws[i]}`, 1);
    if (i + 1 < ws.length) add(`b:${ws[i]} ${ws[i + 1]}`, 0.7);
    const padded = `^${ws[i]}$`;
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25);
  }
  // An empty text still gets a unit vector: cosine indexes refuse zero vectors.
  if (ws.length === 0) add('empty:', 1);
  return normalise(v);
}

/**
 * The deterministic embedder used where no real model can be had: labelled `offline` wherever
 * it is named. No network, no model files, never fails.
 */
export class OfflineEmbedder implements Embedder {
  readonly provider = 'offline' as const;
  readonly model = OFFLINE_EMBEDDER_MODEL;
  readonly offline = true;
  readonly id: string;
  private readonly queue: BatchQueue;

  constructor(readonly dimensions = OFFLINE_EMBEDDER_DIMENSIONS) {
    this.id = embedderId('offline', this.model, dimensions);
    this.queue = new BatchQueue(256, (texts) =>
      Promise.resolve(texts.map((t) => hashedNgramVector(t, dimensions))),
    );
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.queue.embed(texts, signal);
  }
}
