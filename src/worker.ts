import { hostname } from 'node:os';
import { loadConfig } from './config.js';
import { onShutdown, runEntry } from './entry.js';
import { openGraph } from './bootstrap.js';
import {
  evolutionFromConfig,
  ingestionFromConfig,
  schedulerFromConfig,
  stopEngine,
} from './engine/start.js';
import { createLogger } from './logger.js';
import { UnitOfWork } from './services/unit-of-work.js';
import { openEventBus } from '../subscriptions/bus.js';
import { createEmbedder } from './memory/embeddings/embedder.js';
import { ensureVectorIndexes } from '../graph/memory/vector.repository.js';

/**
 * `npm run worker`: an orchestration worker without the API, against the same Neo4j. Run as
 * many as you like; claims are atomic across them. SIGTERM stops claiming and lets running
 * steps finish (up to 30 s); then it aborts the rest, which go back to the queue (READY, the
 * attempt not counted) for another worker: a rolling deploy fails no workflow.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const graph = await openGraph(config, (line) => logger.info(line));
  const embedder = await createEmbedder(config.embeddings, { log: logger, fetchIfMissing: true });
  await ensureVectorIndexes(graph, embedder);
  const pubsub = await openEventBus(config, logger);
  if (!config.events.redisUrl) {
    // Not silent: subscribers of the API hear nothing of the steps run here (README, Live events).
    logger.warn(
      'No REDIS_URL: task and message events of the steps this worker runs reach no subscriber of the API; set REDIS_URL (the same Redis as the API) for live status',
    );
  }
  const engineDeps = {
    uow: new UnitOfWork(graph, pubsub),
    logger,
    pubsub,
    embedder,
    workerId: process.env.WORKER_ID || `${hostname()}-${process.pid}`,
    // A dedicated worker serves only these tenants (comma-separated); default all.
    tenantIds: process.env.WORKER_TENANTS ? process.env.WORKER_TENANTS.split(',') : null,
  };
  const scheduler = schedulerFromConfig(config, engineDeps);
  scheduler.start();
  // Memory ingestion beside the steps (MEMORY_INGESTION=off turns it off).
  const ingestion = ingestionFromConfig(config, engineDeps);
  ingestion?.start();
  // The learning loop likewise (EVOLUTION=off turns it off).
  const evolution = evolutionFromConfig(config, engineDeps);
  evolution?.start();
  logger.info(
    `Worker ${scheduler.workerId} running (${config.engine.concurrency} steps at a time)`,
  );

  onShutdown(logger, 40_000, async (signal) => {
    logger.info(`${signal} received: finishing ${scheduler.running} running step(s)`);
    await stopEngine(scheduler, 30_000, logger, ingestion, evolution);
    await pubsub.close?.();
    await graph.close();
    logger.info('Worker stopped');
  });
}

runEntry(main);
