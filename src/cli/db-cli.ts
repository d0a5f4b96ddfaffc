import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { localNeo4jOptions, writableDataDir } from './bootstrap.js';
import { StartupError } from './startup-error.js';
import {
  LocalNeo4jError,
  localNeo4jPid,
  startLocalNeo4j,
  stopLocalNeo4j,
} from '../../graph/local/launcher.js';

/** `npm run db:start | db:stop | db:status`: the project's local Neo4j by hand. */
async function main(command: string | undefined): Promise<void> {
  const config = loadConfig();
  const log = (line: string) => console.log(line);
  const options = localNeo4jOptions(config, log);
  switch (command) {
    case 'start': {
      writableDataDir(config, options.home);
      const db = await startLocalNeo4j(options);
      if (!db.startedNow) log(`Neo4j is already running (pid ${db.pid})`);
      log(`Bolt:           ${db.boltUri}`);
      log(`Neo4j Browser:  ${db.browserUrl}`);
      log(`User/password:  ${db.user} / the password in ${path.join(options.home, 'password')}`);
      return;
    }
    case 'stop':
      if (!(await stopLocalNeo4j(options.home, log))) log('Neo4j is not running');
      return;
    case 'status': {
      const pid = localNeo4jPid(options.home);
      log(
        pid
          ? `Neo4j is running (pid ${pid}) at bolt://127.0.0.1:${options.boltPort}`
          : 'Neo4j is not running',
      );
      process.exitCode = pid ? 0 : 3;
      return;
    }
    default:
      throw new ConfigError('usage: db-cli start|stop|status');
  }
}

main(process.argv[2]).catch((err: unknown) => {
  const known =
    err instanceof ConfigError || err instanceof LocalNeo4jError || err instanceof StartupError;
  console.error(known ? (err as Error).message : err);
  process.exit(1);
});
