/** The AbortError an aborted embed rejects with: the signal's reason when it is an Error. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('The embedding was aborted');
  err.name = 'AbortError';
  return err;
}

/**
 * Runs an embedder's batches one at a time, in call order (the contract's back-pressure), and
 * splits each call's texts into batches of `batchSize`. An aborted call rejects at once; its
 * batches that have not started never start, and a running one finishes in the background
 * (a model inference cannot be interrupted) before the next call's batch begins.
 */
export class BatchQueue {
  /** Settles when the batch in flight (if any) has finished. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly batchSize: number,
    private readonly runBatch: (texts: string[], signal?: AbortSignal) => Promise<number[][]>,
  ) {}

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (signal?.aborted) throw abortError(signal);
    const out: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      out.push(...(await this.schedule(batch, signal)));
    }
    return out;
  }

  private schedule(batch: string[], signal?: AbortSignal): Promise<number[][]> {
    const run = this.tail.then(async () => {
      if (signal?.aborted) throw abortError(signal);
      const vectors = await this.runBatch(batch, signal);
      if (vectors.length !== batch.length) {
        throw new Error(`embedder returned ${vectors.length} vectors for ${batch.length} texts`);
      }
      return vectors;
    });
    this.tail = run.catch(() => undefined);
    if (!signal) return run;
    return new Promise<number[][]>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(
        (vectors) => {
          signal.removeEventListener('abort', onAbort);
          resolve(vectors);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err as Error);
        },
      );
    });
  }
}
