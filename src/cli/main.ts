import { otlpEndpoint, startTracing } from '../tracing/setup.js';
import { loadConfig } from '../config/config.js';
import { onShutdown, runEntry } from './entry.js';
import { ensureBootstrapAdmin, openGraph, resolveGraphSettings } from './bootstrap.js';
import { createLogger } from '../logger.js';
import { McpToolPool } from '../mcp-client/pool.js';
import { startServer } from '../server/server.js';
import {
  evolutionFromConfig,
  ingestionFromConfig,
  dispatchFromConfig,
  openEnginePool,
  schedulerFromConfig,
  stopEngine,
} from '../engine/start.js';
import { checkModelReachable } from '../llm/models.js';
import { VERSION } from '../version.js';
import { announceConsole, ensureConsoleBuilt } from '../console/build.js';
import { hostname } from 'node:os';
import { busIdentity, openEventBus } from '../../subscriptions/bus.js';
import { joinInstances } from '../../subscriptions/instances.js';
import { redisRateLimit } from '../limits/shared-rate-limiter.js';
import { createEmbedder } from '../memory/embeddings/embedder.js';
import { ensureVectorIndexes } from '../../graph/memory/vector.repository.js';

/** `npm start`: the local Neo4j if needed, migrations, then the API. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // OpenTelemetry traces when OTEL_EXPORTER_OTLP_ENDPOINT asks for them (issue 17).
  const tracing = await startTracing({ serviceName: 'agent-platform' });
  if (tracing) logger.info(`Sending traces to ${otlpEndpoint()}`);
  const log = (line: string) => logger.info(line);
  const settings = await resolveGraphSettings(config, log);
  const graph = await openGraph(config, log, settings);
  // One embedder per process; the local model is fetched on first start (offline if it cannot be).
  const embedder = await createEmbedder(config.embeddings, { log: logger, fetchIfMissing: true });
  await ensureVectorIndexes(graph, embedder);
  // The console at /console: built on the first start (src/console/build.ts).
  const consoleBuild = await ensureConsoleBuilt(log);
  const pubsub = await openEventBus(config, logger);
  const instances = config.events.instanceCheck
    ? await joinInstances({
        graph,
        logger,
        self: {
          id: `${hostname()}:${config.port || process.pid}`,
          role: 'api',
          bus: pubsub.shared ? 'redis' : 'in-process',
          redis: busIdentity(config.events),
        },
      })
    : null;
  // With Redis, every instance spends from the same bucket per key, and per tenant.
  const sharedRate = (perMinute: number) =>
    config.events.redisUrl
      ? redisRateLimit({
          url: config.events.redisUrl,
          prefix: config.events.redisPrefix,
          perMinute,
          logger,
        })
      : undefined;
  const rateLimit = await sharedRate(config.limits.rateLimitPerMinute);
  const tenantRateLimit = await sharedRate(config.limits.tenantRateLimitPerMinute);
  // One pool of MCP sessions for the API's listings and the engine's steps (issue 16).
  const mcp = new McpToolPool(config.mcpClient, logger);
  const server = await startServer({
    mcp,
    config,
    graph,
    logger,
    pubsub,
    rateLimit,
    tenantRateLimit,
    llm: config.llm,
    budgets: config.budgets,
    embedder,
    relay: config.events.relay,
    relayAfterMs: config.events.relayAfterMs,
    metrics: config.metrics,
  });
  const admin = await ensureBootstrapAdmin(config, server.services.auth);
  // An unreachable model is a warning, never a crash: offline work and the API still run.
  void checkModelReachable(config.llm, logger);
  const dispatch = config.engine.enabled ? await dispatchFromConfig(config, logger) : undefined;
  // The engine's work on a pool of its own: requests never wait behind its steps.
  const enginePool = config.engine.enabled
    ? await openEnginePool(settings, server.services.uow, log)
    : undefined;
  const uow = enginePool?.uow ?? server.services.uow;
  const scheduler = config.engine.enabled
    ? schedulerFromConfig(config, {
        uow,
        logger,
        pubsub: server.pubsub,
        embedder,
        mcp,
        dispatch,
      })
    : undefined;
  scheduler?.start();
  // Memory ingestion runs wherever the engine runs (MEMORY_INGESTION=off turns it off).
  const ingestion = config.engine.enabled
    ? ingestionFromConfig(config, {
        uow,
        logger,
        pubsub: server.pubsub,
        embedder,
      })
    : undefined;
  ingestion?.start();
  // The learning loop likewise (EVOLUTION=off turns it off).
  const evolution = config.engine.enabled
    ? evolutionFromConfig(config, { uow, logger, pubsub: server.pubsub })
    : undefined;
  evolution?.start();
  // Before the process says it is ready: a SIGTERM that came before the handler killed it
  // outright (no handler, no graceful stop), leaving its instance record and connections.
  onShutdown(logger, 15_000, async (signal) => {
    logger.info(`${signal} received: closing subscriptions, draining requests`);
    // Steps get 10 s of the 15 s grace, then go back to the queue for another process.
    await stopEngine(scheduler, 10_000, logger, ingestion, evolution);
    await enginePool?.close();
    await mcp.closeAll();
    await dispatch?.close();
    await server.close();
    // After all that embeds (ingestion, requests): exiting in a local model's batch aborts.
    await embedder.dispose?.();
    await instances?.stop();
    await pubsub.close?.();
    await rateLimit?.close?.();
    await tenantRateLimit?.close?.();
    await graph.close();
    await tracing?.shutdown();
    logger.info('Stopped');
  });
  logger.info(`Agent platform ${VERSION} ready at ${server.url} (subscriptions: ${server.wsUrl})`);
  announceConsole(logger, server.url.replace(/\/graphql$/, '/console/'), consoleBuild);
  if (server.metricsUrl) logger.info(`Prometheus metrics at ${server.metricsUrl}`);
  if (admin.source === 'ADMIN_API_KEY' && admin.revoked) {
    logger.warn('ADMIN_API_KEY is a revoked key: set ADMIN_API_KEY to a new secret to administer');
  }
  if (admin.source === 'file' && admin.replacedRevoked) {
    logger.warn(`The local admin key was revoked: a new one is in ${admin.file}`);
  }
  if (admin.source === 'file') printSandboxHelp(server.url, admin.file, admin.key);
}

/**
 * Tells a person at a terminal how to get into Apollo Sandbox. The key is shown only on a
 * terminal, never written to a log or a pipe; elsewhere the banner names its file.
 */
function printSandboxHelp(url: string, file: string, key: string): void {
  const header = process.stdout.isTTY ? `Bearer ${key}` : `Bearer <the key in ${file}>`;
  console.log(
    [
      '',
      `  Apollo Sandbox:  open ${url} in a browser`,
      `  Add the header:  Authorization: ${header}`,
      `  (local admin key of the "default" tenant, kept in ${file})`,
      '',
    ].join('\n'),
  );
}

runEntry(main);
