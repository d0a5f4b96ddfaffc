import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { inject } from 'vitest';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AppProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves with the first output line matching, or rejects when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs a TypeScript entry point of the project (e.g. src/cli/main.ts) as its own process. */
export function runEntry(entry: string, env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    // ENGINE off unless asked: a scheduler serving every tenant would run other suites' steps.
    // Memory's ingestion off and the offline embedder unless asked: these processes test the
    // engine and start-up, and loading the ONNX model and extracting every step's result in each
    // of them loaded a 2-core CI machine running two suites into timeouts (memory has its suites).
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      ENGINE: 'off',
      MEMORY_INGESTION: 'off',
      EVOLUTION: 'off',
      EMBEDDINGS_PROVIDER: 'offline',
      // Suites run API and worker processes side by side on one test database, each its own
      // little platform: none may refuse another (the suite of the check turns it on).
      INSTANCE_CHECK: 'off',
      // Nor may one suite's API relay another suite's handed-off events into its own bus.
      EVENT_RELAY: 'off',
      ...env,
    },
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((code) => {
          if (!output.match(pattern)) {
            cleanup();
            reject(new Error(`exited (${code}) before ${pattern}; output:\n${output}`));
          }
        });
        check();
      });
    },
  };
}

/** A worker process (`npm run worker`) on the test Neo4j, with `env` over its settings. */
export function runWorker(env: Record<string, string>): AppProcess {
  const neo4j = inject('neo4j');
  return runEntry('src/cli/worker.ts', {
    NEO4J_URI: neo4j.uri,
    NEO4J_USER: neo4j.user,
    NEO4J_PASSWORD: neo4j.password,
    NEO4J_DATABASE: neo4j.database,
    ENGINE_EXECUTOR: 'echo',
    ENGINE_POLL_MS: '100',
    ...env,
  });
}
