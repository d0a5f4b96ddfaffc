/**
 * `npm run bench:memory` (issue 11): what knowledge-graph memory costs and how well it finds
 * things, against a full-text-only baseline measured in the same run. Not a test (`npm test`
 * does not run it); it prints figures and exits 0.
 *
 * 1. Ingestion: N synthetic episodes (MEMORY_BENCH_EPISODES, 200), free text mixed with
 *    structured-only ones, through the real per-episode ingestion with the OFFLINE chat model
 *    and the real local embedder when its files are there (else the offline one, labelled):
 *    episodes/s, p50/p99 per episode, model calls per episode (and as the graph recorded them).
 * 2. Latency: synthetic fact stores of MEMORY_BENCH_SIZES facts (10000,100000), written with
 *    the memory repositories in batches (vectors from MEMORY_BENCH_BULK_EMBEDDER, offline by
 *    default: the local model would need many minutes for 100k texts); MEMORY_BENCH_QUERIES
 *    (100) questions timed through searchMemory and through BM25 alone.
 * 3. Quality: bench/memory-corpus.json through the real ingestion, then recall@5 and MRR of
 *    searchMemory against full-text only, for current and asOf questions.
 * MEMORY_BENCH_PHASES (ingest,latency,quality) picks phases. Each phase works in a tenant of
 * its own (bench-memory-<uuid>-<phase>), all deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { connectGraph } from '../graph/graph.js';
import { localNeo4jPid } from '../graph/local/launcher.js';
import { ensureVectorIndexes } from '../graph/memory/vector.repository.js';
import { migrate } from '../graph/migrate.js';
import { localNeo4jOptions, resolveGraphSettings } from '../src/cli/bootstrap.js';
import { loadConfig } from '../src/config/config.js';
import { llmEnvSchema, llmFromEnv } from '../src/llm/config.js';
import { createLogger } from '../src/logger.js';
import { createEmbedder, type Embedder } from '../src/memory/embeddings/embedder.js';
import { OfflineEmbedder } from '../src/memory/embeddings/offline.embedder.js';
import { UnitOfWork } from '../src/services/unit-of-work.js';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';
import { runLatencyPhase, type LatencyResult } from './memory-bulk.phase.js';
import { benchOptions, type MemoryBench } from './memory-context.js';
import { runIngestPhase } from './memory-ingest.phase.js';
import { deleteMemoryTenant } from './memory-queries.js';
import { runQualityPhase } from './memory-quality.phase.js';
import {
  printIngest,
  printLatency,
  printQuality,
  printSummary,
  type Summary,
} from './memory-report.js';
import { CpuMeter, int } from './stats.js';

const CHAT = 'the offline model (a deterministic heuristic extractor, not a real model)';

const label = (e: Embedder) =>
  e.offline
    ? `${e.id} (OFFLINE: hashed n-grams, not a real model)`
    : `${e.id} (real model, in-process)`;

async function main(): Promise<void> {
  const options = benchOptions();
  const config = loadConfig();
  const log = (line: string) => console.log(`[neo4j] ${line}`);
  const settings = await resolveGraphSettings(config, log);
  const graph = await connectGraph(settings, { log, attempts: 5 });
  await migrate(graph, log);
  const neo4jPid = config.neo4j.uri
    ? undefined
    : localNeo4jPid(localNeo4jOptions(config, log).home);
  const logger = createLogger('error', process.stderr);
  const embedder = await createEmbedder(config.embeddings, {
    log: { info: (m) => console.log(m), warn: (m) => console.log(m) },
  });
  const bulkEmbedder = options.bulkEmbedder === 'local' ? embedder : new OfflineEmbedder();
  await ensureVectorIndexes(graph, embedder);
  if (bulkEmbedder !== embedder) await ensureVectorIndexes(graph, bulkEmbedder);
  const uow = new UnitOfWork(graph, createInProcessPubSub());
  const b: MemoryBench = {
    graph,
    uow,
    deps: {
      uow,
      llm: llmFromEnv(llmEnvSchema.parse({})),
      logger,
      embedder,
      similarity: config.ingestion.similarity,
    },
    embedder,
    options,
    tenants: [],
  };
  const base = `bench-memory-${randomUUID()}`;
  const tenant = (phase: string) => {
    const t = `${base}-${phase}`;
    b.tenants.push(t);
    return t;
  };
  const [one, five, fifteen] = loadavg();
  console.log(
    [
      `Memory benchmark (issue 11), tenants ${base}-*`,
      `  machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${one!.toFixed(2)} / ${five!.toFixed(2)} / ${fifteen!.toFixed(2)}`,
      `  chat model: ${CHAT}`,
      `  embedder: ${label(embedder)}`,
      `  phases: ${[...options.phases].join(', ')}; episodes ${options.episodes} (${options.concurrency} at a time); ` +
        `fact stores ${options.sizes.map(int).join(', ')}; ${options.queries} questions each`,
    ].join('\n'),
  );
  const summary: Summary = {
    chat: 'offline',
    embedder: label(embedder),
    bulkEmbedder: label(bulkEmbedder),
    latency: [],
  };
  try {
    if (options.phases.has('ingest')) {
      console.log('\n== 1. Ingestion ==');
      const cpu = new CpuMeter(neo4jPid);
      summary.ingest = await runIngestPhase(b, tenant('ingest'));
      printIngest(summary.ingest);
      console.log(`  CPU: ${cpu.read()}`);
    }
    if (options.phases.has('latency')) {
      console.log(`\n== 2. Retrieval latency (vectors: ${label(bulkEmbedder)}) ==`);
      const cpu = new CpuMeter(neo4jPid);
      const results: LatencyResult[] = await runLatencyPhase(b, tenant('bulk'), bulkEmbedder);
      for (const r of results) {
        console.log(`-- ${int(r.facts)} facts: results --`);
        printLatency(r, label(bulkEmbedder));
      }
      summary.latency = results;
      console.log(`  CPU: ${cpu.read()}`);
    }
    if (options.phases.has('quality')) {
      console.log('\n== 3. Retrieval quality (bench/memory-corpus.json) ==');
      summary.quality = await runQualityPhase(b, tenant('corpus'));
      printQuality(summary.quality);
    }
    printSummary(summary);
  } finally {
    for (const t of b.tenants) {
      const deleted = await deleteMemoryTenant(graph, t);
      console.log(`Deleted the ${int(deleted)} nodes of tenant ${t}.`);
    }
    await graph.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
