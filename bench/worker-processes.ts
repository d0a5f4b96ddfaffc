import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { GraphSettings } from '../graph/graph.js';
import { offerSteps } from '../src/engine/dispatch.js';
import type { Logger } from '../src/logger.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { startRedisServer } from '../test/utils/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerProcesses {
  /** Their process ids (for their CPU). */
  pids: number[];
  /** Asks every worker to stop (SIGTERM: running steps finish) and waits for them to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `count` `npm run worker` processes (src/cli/worker.ts, the same entry) against `settings`,
 * serving only `tenantId`, each running `concurrency` steps at a time, and resolves once every
 * one says it is running. The steps then run on event loops of their own, off the API's: what
 * a deployment with `npm run worker` processes does. Memory ingestion and the learning loop are
 * off, as in the in-process layout, so the two layouts run the same work. A worker that exits
 * early rejects with the last lines it printed.
 */
export async function startWorkerProcesses(opts: {
  count: number;
  concurrency: number;
  settings: GraphSettings;
  tenantId: string;
  /** More environment for the workers (the Redis of startRedisBus). */
  env?: Record<string, string>;
  /** The script they run (default src/cli/worker.ts) and the prefix of their WORKER_IDs. */
  entry?: string;
  name?: string;
}): Promise<WorkerProcesses> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // No budget stops a step, and no worker claims a metrics port.
  for (const name of Object.keys(env)) {
    if (name.startsWith('BUDGET_') || name === 'METRICS_PORT') delete env[name];
  }
  const children = Array.from({ length: opts.count }, (_, i) =>
    spawn(process.execPath, ['--import', 'tsx', opts.entry ?? 'src/cli/worker.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...env,
        NEO4J_URI: opts.settings.uri,
        NEO4J_USER: opts.settings.user,
        NEO4J_PASSWORD: opts.settings.password,
        NEO4J_DATABASE: opts.settings.database,
        WORKER_ID: `${opts.name ?? 'bench-agents-worker'}-${i + 1}`,
        WORKER_TENANTS: opts.tenantId,
        ENGINE_CONCURRENCY: String(opts.concurrency),
        MEMORY_INGESTION: 'off',
        EVOLUTION: 'off',
        // The benchmark's own API process relays no events and checks no instances either.
        INSTANCE_CHECK: 'off',
        EVENT_RELAY: 'off',
        LOG_LEVEL: 'info',
        ...opts.env,
      },
    }),
  );
  try {
    await Promise.all(children.map((c, i) => running(c, i + 1)));
  } catch (err) {
    await Promise.all(children.map((c) => exit(c, 'SIGKILL')));
    throw err;
  }
  return {
    pids: children.map((c) => c.pid!),
    async stop() {
      await Promise.all(children.map((c) => exit(c, 'SIGTERM')));
    },
  };
}

/**
 * A redis-server of the benchmark's own (Debian's package, on a loopback port), the API's event
 * bus on it offering READY steps to the dispatch, and the environment that gives worker
 * processes the same bus and dispatch (ENGINE_DISPATCH defaults to redis with REDIS_URL).
 */
export async function startRedisBus(logger: Logger) {
  const server = await startRedisServer();
  const prefix = `bench:${randomUUID()}:`;
  const bus = await createRedisPubSub({
    url: server.url,
    logger,
    prefix,
    onPublish: offerSteps(prefix),
  });
  return {
    bus,
    env: { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix },
    async close() {
      await bus.close?.();
      await server.dispose();
    },
  };
}

/** Resolves when the worker logs that it runs; rejects if it exits first or takes over 120 s. */
function running(child: ChildProcess, n: number): Promise<void> {
  let tail = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('did not start within 120 s'), 120_000);
    const onData = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4_000);
      if (/Worker \S+ running/.test(tail)) {
        clearTimeout(timer);
        // From here its output is only drained: a full pipe would stall the worker.
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(`exited with code ${code}`);
    function fail(why: string) {
      clearTimeout(timer);
      reject(new Error(`worker process ${n} ${why}; its last output:\n${tail}`));
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}

function exit(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
