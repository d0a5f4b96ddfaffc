import { hostname } from 'node:os';
import { ConfigError, loadConfig } from './config.js';
import { openGraph } from './bootstrap.js';
import { LocalNeo4jError } from '../graph/local/launcher.js';
import { schedulerFromConfig } from './engine/start.js';
import { createLogger } from './logger.js';
import { UnitOfWork } from './services/unit-of-work.js';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';

/**
 * `npm run worker`: an orchestration worker without the API, against the same Neo4j. Run as
 * many as you like; claims are atomic across them. SIGTERM stops claiming and lets running
 * steps finish (up to 30 s).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const graph = await openGraph(config, (line) => logger.info(line));
  const pubsub = createInProcessPubSub();
  const scheduler = schedulerFromConfig(config, {
    uow: new UnitOfWork(graph, pubsub),
    logger,
    pubsub,
    workerId: process.env.WORKER_ID || `${hostname()}-${process.pid}`,
    // A dedicated worker serves only these tenants (comma-separated); default all.
    tenantIds: process.env.WORKER_TENANTS ? process.env.WORKER_TENANTS.split(',') : null,
  });
  scheduler.start();
  logger.info(
    `Worker ${scheduler.workerId} running (${config.engine.concurrency} steps at a time)`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: finishing ${scheduler.running} running step(s)`);
    const force = setTimeout(() => void scheduler.stop({ abort: true }), 30_000);
    force.unref();
    await scheduler.stop();
    await graph.close();
    logger.info('Worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof LocalNeo4jError;
  const message = err instanceof Error ? err.message : String(err);
  console.error(
    `Cannot start: ${known || message.startsWith('Neo4j') ? message : (err as Error).stack}`,
  );
  process.exit(1);
});
