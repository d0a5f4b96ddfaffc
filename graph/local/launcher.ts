import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import neo4j from 'neo4j-driver';
import { resolveNeo4jClasspath } from './classpath.js';
import {
  localNeo4jLayout,
  neo4jJvmArgs,
  renderNeo4jConf,
  type LocalNeo4jLayout,
  type LocalNeo4jSettings,
} from './neo4j-conf.js';

export interface LocalNeo4jOptions extends LocalNeo4jSettings {
  /** Folder for conf, data, logs and the pid file, e.g. .data/neo4j. */
  home: string;
  user: string;
  /** Used as the initial password on first start; otherwise the stored one is used. */
  password?: string;
  log: (line: string) => void;
  startTimeoutMs?: number;
}

export interface LocalNeo4j {
  boltUri: string;
  browserUrl: string;
  user: string;
  password: string;
  pid: number;
  /** False when a server started earlier was found running and reused. */
  startedNow: boolean;
}

export class LocalNeo4jError extends Error {}

/**
 * Starts the project's local Neo4j Community server, or finds the one already running.
 * Idempotent: a live pid file means reuse; a stale one is removed. Waits until Bolt answers.
 * Throws LocalNeo4jError with a one-line reason (no Java, port taken, server exited...).
 */
export async function startLocalNeo4j(opts: LocalNeo4jOptions): Promise<LocalNeo4j> {
  const layout = localNeo4jLayout(opts.home);
  const boltUri = `bolt://127.0.0.1:${opts.boltPort}`;
  const browserUrl = `http://127.0.0.1:${opts.httpPort}/browser/`;

  const running = runningPid(layout);
  if (running) {
    const password = storedPassword(layout, opts.password);
    await waitForBolt(boltUri, opts.user, password, running, layout, opts.startTimeoutMs);
    return { boltUri, browserUrl, user: opts.user, password, pid: running, startedNow: false };
  }

  requireJava17();
  for (const [port, variable] of [
    [opts.boltPort, 'LOCAL_NEO4J_BOLT_PORT'],
    [opts.httpPort, 'LOCAL_NEO4J_HTTP_PORT'],
  ] as const) {
    if (await portInUse(port)) {
      throw new LocalNeo4jError(
        `Port ${port} is already in use by another program, so the local Neo4j cannot start. ` +
          `Stop that program, set ${variable} to a free port, or set NEO4J_URI to use an existing Neo4j.`,
      );
    }
  }

  for (const dir of [layout.confDir, layout.dataDir, layout.logsDir, layout.runDir]) {
    mkdirSync(dir, { recursive: true });
  }
  writeFileSync(`${layout.confDir}/neo4j.conf`, renderNeo4jConf(layout, opts));
  const classpath = await resolveNeo4jClasspath(`${layout.home}/classpath.json`, opts.log);
  const password = initialisePassword(layout, classpath, opts.password);

  opts.log(`Starting Neo4j Community (logs in ${layout.logsDir})...`);
  const out = openSync(layout.consoleLog, 'a');
  const child = spawn(
    'java',
    [
      ...neo4jJvmArgs(opts),
      '-cp',
      classpath,
      'org.neo4j.server.CommunityEntryPoint',
      `--home-dir=${layout.home}`,
      `--config-dir=${layout.confDir}`,
    ],
    { detached: true, stdio: ['ignore', out, out], env: neo4jEnv(layout) },
  );
  child.unref();
  const pid = child.pid;
  if (!pid) throw new LocalNeo4jError('Could not start java for the local Neo4j');
  writeFileSync(layout.pidFile, String(pid));

  await waitForBolt(boltUri, opts.user, password, pid, layout, opts.startTimeoutMs);
  opts.log(`Neo4j is up: Bolt ${boltUri}, Neo4j Browser ${browserUrl}`);
  return { boltUri, browserUrl, user: opts.user, password, pid, startedNow: true };
}

/** Stops the local Neo4j if it runs. Returns false when nothing was running. */
export async function stopLocalNeo4j(home: string, log: (line: string) => void): Promise<boolean> {
  const layout = localNeo4jLayout(home);
  const pid = runningPid(layout);
  if (!pid) return false;
  log(`Stopping Neo4j (pid ${pid})...`);
  process.kill(pid, 'SIGTERM');
  const deadline = performance.now() + 60_000;
  while (isAlive(pid) && performance.now() < deadline) await sleep(200);
  if (isAlive(pid)) {
    log('Neo4j did not stop within 60 s; killing it');
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
  rmSync(layout.pidFile, { force: true });
  log('Neo4j stopped');
  return true;
}

/** The pid of the running local Neo4j, or undefined. Removes a stale pid file. */
export function localNeo4jPid(home: string): number | undefined {
  return runningPid(localNeo4jLayout(home));
}

function runningPid(layout: LocalNeo4jLayout): number | undefined {
  if (!existsSync(layout.pidFile)) return undefined;
  const pid = Number(readFileSync(layout.pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isOurNeo4j(pid, layout)) return pid;
  rmSync(layout.pidFile, { force: true });
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Guards against a reused pid: the process must be a Neo4j serving this home folder. */
function isOurNeo4j(pid: number, layout: LocalNeo4jLayout): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true; // no procfs: trust the pid file
  if (!existsSync(cmdline)) return false;
  const args = readFileSync(cmdline, 'utf8');
  return args.includes('CommunityEntryPoint') && args.includes(`--home-dir=${layout.home}`);
}

function storedPassword(layout: LocalNeo4jLayout, given?: string): string {
  if (given) return given;
  if (existsSync(layout.passwordFile)) return readFileSync(layout.passwordFile, 'utf8').trim();
  throw new LocalNeo4jError(
    `The local Neo4j already has a password but ${layout.passwordFile} is missing: set NEO4J_PASSWORD`,
  );
}

/** On first start, sets the initial password (given, or generated and kept in the home folder). */
function initialisePassword(layout: LocalNeo4jLayout, classpath: string, given?: string): string {
  if (existsSync(`${layout.dataDir}/dbms/auth.ini`)) return storedPassword(layout, given);
  const password = given ?? randomBytes(18).toString('base64url');
  setInitialPassword(layout.home, classpath, password);
  return password;
}

/**
 * Sets the initial password of the Neo4j whose conf is in `home`/conf with AdminTool, and keeps
 * it in `home`/password (mode 600). Any string is taken literally, including one that begins
 * with `-` or `@`. Throws LocalNeo4jError with AdminTool's first line when it refuses.
 */
export function setInitialPassword(home: string, classpath: string, password: string): void {
  const layout = localNeo4jLayout(home);
  const result = spawnSync(
    'java',
    ['-cp', classpath, 'org.neo4j.cli.AdminTool', ...setInitialPasswordArgs(password)],
    { env: neo4jEnv(layout), encoding: 'utf8' },
  );
  if (result.status !== 0) {
    const reason = (result.stderr || result.stdout || '').trim().split('\n')[0];
    throw new LocalNeo4jError(`Could not set the initial Neo4j password: ${reason}`);
  }
  writeFileSync(layout.passwordFile, `${password}\n`, { mode: 0o600 });
}

/**
 * AdminTool's arguments for `password`. AdminTool parses with picocli 4.7: a password that
 * began with `-` was read as an option (issue 9: one generated password in 64 broke the first
 * start), so `--` ends the options; and an argument that begins with `@` is read as an
 * @-file even after `--`, so a leading `@` is escaped as `@@`.
 */
export function setInitialPasswordArgs(password: string): string[] {
  const literal = password.startsWith('@') ? `@${password}` : password;
  return ['dbms', 'set-initial-password', '--', literal];
}

function neo4jEnv(layout: LocalNeo4jLayout): NodeJS.ProcessEnv {
  return { ...process.env, NEO4J_HOME: layout.home, NEO4J_CONF: layout.confDir };
}

function requireJava17(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new LocalNeo4jError(
      'Java is not installed: the local Neo4j needs Java 17 or newer (or set NEO4J_URI to use another Neo4j)',
    );
  }
  const major = Number(/version "(\d+)/.exec(result.stderr)?.[1]);
  if (!(major >= 17)) {
    throw new LocalNeo4jError(
      `The local Neo4j needs Java 17 or newer, but java reports ${result.stderr.split('\n')[0]}`,
    );
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForBolt(
  uri: string,
  user: string,
  password: string,
  pid: number,
  layout: LocalNeo4jLayout,
  timeoutMs = 180_000,
): Promise<void> {
  const driver = neo4j.driver(uri, neo4j.auth.basic(user, password), {
    connectionTimeout: 2_000,
    logging: { level: 'error', logger: () => {} },
  });
  // Waits are durations: on the monotonic clock (a paused and resumed VM steps the wall clock).
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await driver.verifyConnectivity();
        return;
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (code.startsWith('Neo.ClientError.Security')) {
          throw new LocalNeo4jError(
            `The local Neo4j refused the password for user "${user}": NEO4J_PASSWORD does not match the one set on first start (see ${layout.passwordFile})`,
          );
        }
        if (!isAlive(pid)) {
          rmSync(layout.pidFile, { force: true });
          throw new LocalNeo4jError(
            `Neo4j exited during start-up; the end of ${layout.consoleLog}:\n${tail(layout.consoleLog)}`,
          );
        }
        if (performance.now() > deadline) {
          throw new LocalNeo4jError(
            `Neo4j did not answer on ${uri} within ${timeoutMs / 1000} s; see ${layout.logsDir}`,
          );
        }
        await sleep(500);
      }
    }
  } finally {
    await driver.close();
  }
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
