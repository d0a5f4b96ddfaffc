import type { Graph } from '../graph/graph.js';
import { mergeEpisodes, type NewEpisode } from '../graph/memory/episode.repository.js';
import { claimEpisodes } from '../graph/memory/ingest.repository.js';
import type { Embedder } from '../src/memory/embeddings/embedder.js';
import { ingestEpisode, type IngestDeps, type IngestResult } from '../src/memory/ingest/ingest.js';
import type { UnitOfWork } from '../src/services/unit-of-work.js';
import { now } from './probe.js';
import { int } from './stats.js';

/** The benchmark's knobs: defaults as issue 11 asks, smaller runs through the environment. */
export interface MemoryBenchOptions {
  /** MEMORY_BENCH_EPISODES: episodes ingested in phase 1. */
  episodes: number;
  /** MEMORY_BENCH_CONCURRENCY: episodes ingested at once in phase 1 (the queue's default). */
  concurrency: number;
  /** MEMORY_BENCH_SIZES: fact-store sizes of phase 2, ascending. */
  sizes: number[];
  /** MEMORY_BENCH_QUERIES: timed searches per size. */
  queries: number;
  /** MEMORY_BENCH_BULK_EMBEDDER: offline (default, fast) or local vectors for the bulk facts. */
  bulkEmbedder: 'offline' | 'local';
  /** MEMORY_BENCH_PHASES: any of ingest, latency, quality. */
  phases: Set<'ingest' | 'latency' | 'quality'>;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`${name} must be a whole number of at least 1, but got "${raw}"`);
  }
  return n;
}

export function benchOptions(): MemoryBenchOptions {
  const sizes = (process.env.MEMORY_BENCH_SIZES ?? '10000,100000').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 100) {
      throw new Error(
        `MEMORY_BENCH_SIZES must list fact counts of at least 100, e.g. 10000,100000, but got "${s}"`,
      );
    }
    return n;
  });
  const bulk = process.env.MEMORY_BENCH_BULK_EMBEDDER ?? 'offline';
  if (bulk !== 'offline' && bulk !== 'local') {
    throw new Error(`MEMORY_BENCH_BULK_EMBEDDER must be offline or local, but got "${bulk}"`);
  }
  const phases = (process.env.MEMORY_BENCH_PHASES ?? 'ingest,latency,quality')
    .split(',')
    .map((p) => p.trim());
  for (const p of phases) {
    if (!['ingest', 'latency', 'quality'].includes(p)) {
      throw new Error(`MEMORY_BENCH_PHASES lists ingest, latency, quality, but got "${p}"`);
    }
  }
  return {
    episodes: positive('MEMORY_BENCH_EPISODES', 200),
    concurrency: positive('MEMORY_BENCH_CONCURRENCY', 2),
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    queries: positive('MEMORY_BENCH_QUERIES', 100),
    bulkEmbedder: bulk,
    phases: new Set(phases as ('ingest' | 'latency' | 'quality')[]),
  };
}

/** What every phase works with. */
export interface MemoryBench {
  graph: Graph;
  uow: UnitOfWork;
  /** The ingestion's dependencies: the offline chat model, the embedder of the run. */
  deps: IngestDeps;
  /** The embedder of the run: the local model when present, else the offline one. */
  embedder: Embedder;
  options: MemoryBenchOptions;
  /** Tenants made by the run, deleted at the end. */
  tenants: string[];
}

/** One ingested episode as the benchmark saw it. */
export interface IngestedEpisode {
  ms: number;
  result: IngestResult | null;
  error: string | null;
}

/**
 * Queues one episode and claims it in the same transaction (so no other process's ingestion
 * queue can take the bench's episode), then ingests it with ingestion's own per-episode
 * function, as the IngestionQueue does, timed from the claim's commit to ingestion's commit.
 */
export async function ingestOne(
  b: MemoryBench,
  tenantId: string,
  episode: NewEpisode,
  workerId: string,
): Promise<IngestedEpisode> {
  const claimed = await b.uow.run(async (tx) => {
    await mergeEpisodes(tx, tenantId, [episode]);
    return claimEpisodes(tx, workerId, 1, 120_000, [tenantId]);
  });
  const c = claimed[0];
  if (!c) return { ms: 0, result: null, error: 'the episode was not claimable' };
  const started = now();
  try {
    const result = await ingestEpisode(b.deps, c, workerId);
    return { ms: now() - started, result, error: null };
  } catch (err) {
    return { ms: now() - started, result: null, error: (err as Error).message };
  }
}

/**
 * Progress: a bar redrawn in place on a terminal, else a plain line every 10% (logs stay
 * readable). `done()` prints the last state and ends the line.
 */
export function progressBar(label: string, total: number, unit: string) {
  const tty = Boolean(process.stdout.isTTY);
  const started = now();
  let lastStep = -1;
  const render = (n: number) => {
    const s = (now() - started) / 1000;
    const rate = s > 0 ? n / s : 0;
    const tail = `${int(n)}/${int(total)} ${unit}, ${s.toFixed(1)} s, ${rate.toFixed(1)}/s`;
    if (tty) {
      const width = 30;
      const full = Math.round((n / Math.max(1, total)) * width);
      process.stdout.write(`\r  ${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${tail}`);
    } else {
      const step = Math.floor((n / Math.max(1, total)) * 10);
      if (step !== lastStep) {
        lastStep = step;
        console.log(`  ${label}: ${tail}`);
      }
    }
  };
  return {
    tick: render,
    done(n: number) {
      if (tty) {
        render(n);
        process.stdout.write('\n');
      } else if (Math.floor((n / Math.max(1, total)) * 10) !== lastStep) render(n);
    },
  };
}
