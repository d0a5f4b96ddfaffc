import { otlpEndpoint, startTracing } from '../tracing/setup.js';
import { hostname } from 'node:os';
import { loadConfig } from '../config/config.js';
import { lowerCpuPriority } from './cpu-priority.js';
import { onShutdown, runEntry } from './entry.js';
import { openGraph } from './bootstrap.js';
import {
  evolutionFromConfig,
  ingestionFromConfig,
  dispatchFromConfig,
  schedulerFromConfig,
  stopEngine,
} from '../engine/start.js';
import { createLogger } from '../logger.js';
import { UnitOfWork } from '../services/unit-of-work.js';
import { busIdentity, openEventBus } from '../../subscriptions/bus.js';
import { Outbox } from '../../subscriptions/outbox.js';
import { joinInstances } from '../../subscriptions/instances.js';
import { createEmbedder } from '../memory/embeddings/embedder.js';
import { ensureVectorIndexes } from '../../graph/memory/vector.repository.js';
import { McpToolPool } from '../mcp-client/pool.js';
import { startMetricsServer } from '../metrics/endpoint.js';

/**
 * `npm run worker`: an orchestration worker without the API, against the same Neo4j. Run as
 * many as you like; claims are atomic across them. SIGTERM stops claiming and lets running
 * steps finish (up to 30 s); then it aborts the rest, which go back to the queue (READY, the
 * attempt not counted) for another worker: a rolling deploy fails no workflow.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // First, so that the threads started below inherit it.
  const nice = lowerCpuPriority(config.engine.workerNice, (message) => logger.warn(message));
  // OpenTelemetry traces when OTEL_EXPORTER_OTLP_ENDPOINT asks for them (issue 17).
  const tracing = await startTracing({ serviceName: 'agent-platform-worker' });
  if (tracing) logger.info(`Sending traces to ${otlpEndpoint()}`);
  const graph = await openGraph(config, (line) => logger.info(line));
  const embedder = await createEmbedder(config.embeddings, { log: logger, fetchIfMissing: true });
  await ensureVectorIndexes(graph, embedder);
  const pubsub = await openEventBus(config, logger, { process: 'worker' });
  const workerId = config.engine.workerId ?? `${hostname()}-${process.pid}`;
  const instances = config.events.instanceCheck
    ? await joinInstances({
        graph,
        logger,
        self: {
          id: workerId,
          role: 'worker',
          bus: pubsub.shared ? 'redis' : 'in-process',
          redis: busIdentity(config.events),
        },
      })
    : null;
  // Events are written with their steps. Without a shared bus, the API's relay publishes them.
  const outbox = new Outbox({
    graph,
    bus: pubsub,
    logger,
    mode: pubsub.shared ? 'publish' : 'handoff',
    holdMs: config.events.relayAfterMs,
  });
  // A dedicated worker serves only these tenants (WORKER_TENANTS); default all.
  const tenantIds = config.engine.workerTenants;
  if (pubsub.shared && config.events.relay) {
    // What a crashed process left unpublished; handed-off events are the API's to publish.
    outbox.startRelay({ handoffs: false, intervalMs: 2_000, tenantIds });
  }
  if (!pubsub.shared) {
    logger.info(
      'No REDIS_URL: the events of the steps this worker runs reach the API through Neo4j (its outbox relay), a little later than through Redis',
    );
  }
  const engineDeps = {
    uow: new UnitOfWork(graph, pubsub, outbox),
    logger,
    pubsub,
    embedder,
    workerId,
    tenantIds,
    // The steps' MCP sessions, pooled per server (issue 16).
    mcp: new McpToolPool(config.mcpClient, logger),
    // READY steps handed out through Redis (ENGINE_DISPATCH; issue 15).
    dispatch: await dispatchFromConfig(config, logger),
  };
  // A worker has no HTTP server: Prometheus scrapes it on METRICS_PORT when one is set.
  const { metrics } = config;
  const metricsServer =
    metrics.enabled && metrics.port !== null
      ? await startMetricsServer({ ...metrics, port: metrics.port }, logger)
      : null;
  if (metricsServer) {
    logger.info(`Prometheus metrics at http://${metrics.host}:${metricsServer.port}/metrics`);
  }
  // No await from here to the shutdown handler, which comes before the worker says it runs: a
  // SIGTERM before the handler (one sent on that line; or while the metrics server started,
  // steps already claimed) killed the process outright, its steps left to their leases.
  const scheduler = schedulerFromConfig(config, engineDeps);
  scheduler.start();
  // Memory ingestion beside the steps (MEMORY_INGESTION=off turns it off).
  const ingestion = ingestionFromConfig(config, engineDeps);
  ingestion?.start();
  // The learning loop likewise (EVOLUTION=off turns it off).
  const evolution = evolutionFromConfig(config, engineDeps);
  evolution?.start();

  onShutdown(logger, 40_000, async (signal) => {
    logger.info(`${signal} received: finishing ${scheduler.running} running step(s)`);
    await stopEngine(scheduler, 30_000, logger, ingestion, evolution);
    // After what embeds has stopped: exiting during a local model's batch aborts the process.
    await embedder.dispose?.();
    await engineDeps.mcp.closeAll();
    await engineDeps.dispatch?.close();
    await metricsServer?.close();
    await outbox.stop();
    await instances?.stop();
    await pubsub.close?.();
    await graph.close();
    await tracing?.shutdown();
    logger.info('Worker stopped');
  });
  logger.info(
    `Worker ${scheduler.workerId} running (${config.engine.concurrency} steps at a time, CPU priority nice ${nice})`,
  );
}

runEntry(main);
