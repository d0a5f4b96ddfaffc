import { connectGraph, type Graph, type GraphSettings } from '../graph/graph.js';
import { migrate } from '../graph/migrate.js';
import { resolveGraphSettings } from '../src/cli/bootstrap.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { DEFAULT_LIMITS, type LimitsConfig } from '../src/limits/index.js';
import { createLogger } from '../src/logger.js';
import { startServer, type ServerDeps } from '../src/server/server.js';

/** The benchmarks' graph (the local Neo4j unless NEO4J_URI says otherwise), migrated. */
export async function openBenchGraph(): Promise<{
  config: Config;
  settings: GraphSettings;
  graph: Graph;
}> {
  const config = loadConfig();
  const log = (line: string) => console.log(`[neo4j] ${line}`);
  const settings = await resolveGraphSettings(config, log);
  const graph = await connectGraph(settings, { log, attempts: 5 });
  await migrate(graph, log);
  return { config, settings, graph };
}

/**
 * An API server for a benchmark, on a free loopback port: no rate limit and no tenant budget
 * of requests in flight or subscriptions (the benchmark is the load, from one tenant), no relay
 * or retention sweep, silent. `deps` and `limits` add to that (bench:tenant-noise sets them).
 */
export function startBenchServer(
  graph: Graph,
  deps: Partial<Omit<ServerDeps, 'graph' | 'config'>> = {},
  limits: Partial<LimitsConfig> = {},
) {
  return startServer({
    config: {
      env: 'development',
      host: '127.0.0.1',
      port: 0,
      limits: {
        ...DEFAULT_LIMITS,
        rateLimitPerMinute: 1_000_000_000,
        tenantRateLimitPerMinute: 1_000_000_000,
        tenantMaxConcurrentRequests: 1_000_000,
        maxSubscriptionsPerTenant: 1_000_000,
        ...limits,
      },
    },
    graph,
    logger: createLogger('silent'),
    relay: false,
    retentionSweep: false,
    ...deps,
  });
}
