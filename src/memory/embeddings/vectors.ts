/** Small vector helpers shared by the embedders and their tests. */

/** The id every embedder reports: provider:model:dimensions. */
export function embedderId(
  provider: 'local' | 'openai' | 'offline',
  model: string,
  dims: number,
): string {
  return `${provider}:${model}:${dims}`;
}

/** Scales a vector to length 1; a zero vector is returned as is (callers avoid making one). */
export function normalise(vector: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  const norm = Math.sqrt(sum);
  const out = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = norm > 0 ? vector[i]! / norm : vector[i]!;
  return out;
}

/** Cosine similarity of two vectors (0 when either is empty, of another size, or zero). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
