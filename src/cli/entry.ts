import { LocalNeo4jError } from '../../graph/local/launcher.js';
import { ConfigError } from '../config/config.js';
import { StartupError } from './startup-error.js';
import type { Logger } from '../logger.js';

/**
 * Runs a process entry point. Known start-up failures (configuration, the local Neo4j, Neo4j
 * refusing or unreachable, Redis away, a port taken) end in one clear line; anything else is a
 * bug worth its stack.
 */
export function runEntry(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const known =
      err instanceof ConfigError || err instanceof LocalNeo4jError || err instanceof StartupError;
    const message = err instanceof Error ? err.message : String(err);
    console.error(
      `Cannot start: ${known || message.startsWith('Neo4j') ? message : (err as Error).stack}`,
    );
    process.exit(1);
  });
}

/**
 * Calls `stop` once on SIGTERM or SIGINT, then exits 0; exits 1 if stopping takes over
 * `graceMs`.
 */
export function onShutdown(
  logger: Logger,
  graceMs: number,
  stop: (signal: string) => Promise<void>,
) {
  let stopping = false;
  const handle = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      logger.error(`Stopping took over ${graceMs / 1000} s; exiting anyway`);
      process.exit(1);
    }, graceMs);
    force.unref();
    await stop(signal);
    process.exit(0);
  };
  process.on('SIGTERM', () => void handle('SIGTERM'));
  process.on('SIGINT', () => void handle('SIGINT'));
}
