import path from 'node:path';
import { connectGraph, type Graph, type GraphSettings } from '../graph/graph.js';
import { startLocalNeo4j, type LocalNeo4jOptions } from '../graph/local/launcher.js';
import { migrate } from '../graph/migrations.js';
import type { Config } from './config.js';

export type Log = (line: string) => void;

/** The local Neo4j launcher's options, from the config. */
export function localNeo4jOptions(config: Config, log: Log): LocalNeo4jOptions {
  return {
    home: path.join(config.dataDir, 'neo4j'),
    user: config.neo4j.user,
    password: config.neo4j.password,
    log,
    ...config.localNeo4j,
  };
}

/**
 * Where the graph is: NEO4J_URI when set, otherwise the project's local Neo4j, which is
 * started first if it is not running.
 */
export async function resolveGraphSettings(config: Config, log: Log): Promise<GraphSettings> {
  if (config.neo4j.uri) {
    return {
      uri: config.neo4j.uri,
      user: config.neo4j.user,
      password: config.neo4j.password ?? '',
      database: config.neo4j.database,
    };
  }
  const local = await startLocalNeo4j(localNeo4jOptions(config, log));
  if (!local.startedNow) log(`Using the local Neo4j already running at ${local.boltUri}`);
  log(
    `Neo4j Browser: ${local.browserUrl} (user ${local.user}, password in ${path.join(config.dataDir, 'neo4j', 'password')})`,
  );
  return { uri: local.boltUri, user: local.user, password: local.password, database: 'neo4j' };
}

/** Connects (retrying while Neo4j is unreachable) and applies pending migrations. */
export async function openGraph(config: Config, log: Log): Promise<Graph> {
  const settings = await resolveGraphSettings(config, log);
  const graph = await connectGraph(settings, { log });
  try {
    await migrate(graph, log);
  } catch (err) {
    await graph.close();
    throw err;
  }
  return graph;
}
