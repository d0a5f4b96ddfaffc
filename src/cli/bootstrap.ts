import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectGraph, type Graph, type GraphSettings } from '../../graph/graph.js';
import { startLocalNeo4j, type LocalNeo4jOptions } from '../../graph/local/launcher.js';
import { migrate } from '../../graph/migrate.js';
import { generateApiKey } from '../auth/keys.js';
import type { Config } from '../config/config.js';
import type { AuthService } from '../services/auth.service.js';
import { makeDir } from '../make-dir.js';
import { StartupError } from './startup-error.js';

export type Log = (line: string) => void;

/**
 * Makes `dir` (in DATA_DIR) and checks this user can write it: a DATA_DIR naming a file or a
 * folder of another user was a stack from deep in the launcher, naming no variable, and one
 * under /proc hung start-up (src/make-dir.ts).
 */
export function writableDataDir(config: Config, dir: string): void {
  try {
    makeDir(dir);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw dataDirError(config, dir, err);
  }
}

/** A StartupError naming DATA_DIR for `target` (in it) that could not be made or written. */
function dataDirError(config: Config, target: string, err: unknown): StartupError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new StartupError(
    `DATA_DIR ${config.dataDir}: cannot create or write ${target} (${code}); set DATA_DIR to a folder this user can write`,
  );
}

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
      maxConnections: config.neo4j.maxConnections,
    };
  }
  const options = localNeo4jOptions(config, log);
  writableDataDir(config, options.home);
  const local = await startLocalNeo4j(options);
  if (!local.startedNow) log(`Using the local Neo4j already running at ${local.boltUri}`);
  log(
    `Neo4j Browser: ${local.browserUrl} (user ${local.user}, password in ${path.join(config.dataDir, 'neo4j', 'password')})`,
  );
  const { maxConnections } = config.neo4j;
  return {
    uri: local.boltUri,
    user: local.user,
    password: local.password,
    database: 'neo4j',
    maxConnections,
  };
}

/**
 * Connects (retrying while Neo4j is unreachable) and applies pending migrations; `settings`
 * when resolved already (resolveGraphSettings).
 */
export async function openGraph(
  config: Config,
  log: Log,
  settings?: GraphSettings,
): Promise<Graph> {
  const graph = await connectGraph(settings ?? (await resolveGraphSettings(config, log)), { log });
  try {
    await migrate(graph, log);
  } catch (err) {
    await graph.close();
    throw err;
  }
  return graph;
}

/** The tenant that the configured and the local admin keys belong to. */
export const DEFAULT_TENANT = 'default';

/** Where the admin key came from; `revoked`/`replacedRevoked` say what start-up found. */
export type BootstrapAdmin =
  | { source: 'ADMIN_API_KEY'; revoked: boolean }
  | { source: 'file'; file: string; key: string; replacedRevoked: boolean };

/**
 * Makes sure an admin can get in: ADMIN_API_KEY when configured (required in production),
 * otherwise a local admin key created once and kept in DATA_DIR/admin-key (mode 600). A local
 * key that was revoked is replaced by a new one in the file (only who can read DATA_DIR gets
 * it); a revoked ADMIN_API_KEY stays revoked, and start-up says so. Returns where the key
 * comes from, for the start-up banner; never logs the key.
 */
export async function ensureBootstrapAdmin(
  config: Config,
  auth: AuthService,
  tenantId = DEFAULT_TENANT,
): Promise<BootstrapAdmin> {
  if (config.adminApiKey) {
    const key = await auth.ensureAdminKey(
      tenantId,
      config.adminApiKey,
      'configured admin (ADMIN_API_KEY)',
    );
    return { source: 'ADMIN_API_KEY', revoked: Boolean(key.revokedAt) };
  }
  const file = path.join(config.dataDir, 'admin-key');
  let key = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  let replacedRevoked = false;
  if (key && (await auth.ensureAdminKey(tenantId, key, 'local admin')).revokedAt) {
    key = '';
    replacedRevoked = true;
  }
  if (!key) {
    key = generateApiKey();
    writableDataDir(config, config.dataDir);
    // Root may "write" /proc by its mode, and still create nothing there.
    try {
      writeFileSync(file, `${key}\n`, { mode: 0o600 });
    } catch (err) {
      throw dataDirError(config, file, err);
    }
    await auth.ensureAdminKey(tenantId, key, 'local admin');
  }
  return { source: 'file', file, key, replacedRevoked };
}
