import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's redis-server when installed (`.ci/run` installs it), else null. */
export function redisServerBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

export const NO_REDIS =
  'redis-server is not installed: the Redis suites are skipped (apt-get install redis-server, as .ci/run does)';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGKILL when `hard`), keeping the port for start(). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * A real redis-server on a loopback port of its own, in a temp directory: started by the test
 * run (global-setup.ts) and by suites that take Redis away and back. No persistence unless
 * `persistent`: then every write is in the append-only file before Redis answers, so even a
 * SIGKILL loses nothing (what a production Redis for live events should be).
 */
export async function startRedisServer(
  port?: number,
  { persistent = false }: { persistent?: boolean } = {},
): Promise<RedisServer> {
  const binary = redisServerBinary();
  if (!binary) throw new Error(NO_REDIS);
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  let child: ChildProcess | null = null;

  const start = async () => {
    const args = [
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      '--dir',
      dir,
    ];
    child = spawn(binary, args, { stdio: 'ignore' });
    const deadline = performance.now() + 10_000;
    while (!(await answers(chosen))) {
      if (performance.now() > deadline)
        throw new Error(`redis-server did not answer on port ${chosen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (hard = false) => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  await start();
  process.once('exit', () => child?.kill('SIGKILL'));
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    stop,
    start,
    async dispose() {
      await stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether something on `port` answers PING with PONG. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    for (const end of ['error', 'timeout'])
      socket.once(end, () => (socket.destroy(), resolve(false)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
