import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config/config.js';
import { localNeo4jOptions, resolveGraphSettings } from '../src/cli/bootstrap.js';
import { connectGraph, type GraphSettings } from '../graph/graph.js';
import { localNeo4jPid, stopLocalNeo4j } from '../graph/local/launcher.js';
import { migrate } from '../graph/migrate.js';
import { fetchModel } from '../src/memory/embeddings/model-fetch.js';
import { modelPresent } from '../src/memory/embeddings/model-files.js';
import { NO_REDIS, redisServerBinary, startRedisServer } from './utils/redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    neo4j: GraphSettings;
    /** A redis-server of this test run (each suite uses its own key prefix); null without one. */
    redisUrl: string | null;
  }
}

/**
 * Makes sure a real Neo4j answers before any suite runs: NEO4J_URI when set, otherwise the
 * project's local server, started here if needed and stopped afterwards if started here.
 */
export default async function setup(project: TestProject) {
  const config = loadConfig();
  const log = (line: string) => console.log(`[neo4j] ${line}`);
  const home = localNeo4jOptions(config, log).home;
  const wasRunning = !config.neo4j.uri && localNeo4jPid(home) !== undefined;
  const settings = await resolveGraphSettings(config, log);
  const graph = await connectGraph(settings, { log, attempts: 5 });
  await migrate(graph, log);
  await graph.close();
  project.provide('neo4j', settings);
  // The local embedding model's files, once per machine (as npm start does); without them the
  // local-model tests fail with the command that fetches them.
  const { modelDir } = config.embeddings;
  if (!modelPresent(modelDir)) {
    await fetchModel({ dir: modelDir, log: (line) => console.log(`[models] ${line}`) }).catch(
      (err: Error) => console.warn(`[models] ${err.message}`),
    );
  }

  // A real Redis for the Redis suites, on a free loopback port (two suite copies may run).
  // A developer's machine without it skips those suites, saying so; CI must not pass without them.
  if (!redisServerBinary() && process.env.CI) throw new Error(`[redis] ${NO_REDIS}; CI needs them`);
  const redis = redisServerBinary() ? await startRedisServer() : null;
  if (!redis) console.warn(`[redis] ${NO_REDIS}`);
  project.provide('redisUrl', redis?.url ?? null);

  return async () => {
    await redis?.dispose();
    if (!config.neo4j.uri && !wasRunning) await stopLocalNeo4j(home, log);
  };
}
