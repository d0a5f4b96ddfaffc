import { spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ROOT } from './utils/process.js';

/**
 * A supervisor (pm2, supervisord, `kill $!`) stops what it launched: `npm run worker` itself.
 * npm passes SIGTERM to the script's shell; a shell that waits for its command dies without
 * passing it on, so the worker once went on claiming steps as an orphan of PID 1. The scripts
 * now exec their command: the signal reaches preflight, which forwards it to the worker.
 */
let group: number | undefined;

afterEach(() => {
  // Whatever is left of the process group, on a failure (the orphans the test is about).
  if (group) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

// SIGINT too: a script or supervisor without a terminal sends it to npm alone (no Ctrl-C).
it.each(['SIGTERM', 'SIGINT'] as const)(
  'stops the worker when `npm run worker` is sent %s, as a supervisor does',
  async (signal) => {
    const neo4j = inject('neo4j');
    // The npm on PATH, as a person or a supervisor would run it (preflight picks the Node).
    const npm = spawn('npm', ['run', '--silent', 'worker'], {
      cwd: ROOT,
      detached: true,
      env: {
        ...process.env,
        NEO4J_URI: neo4j.uri,
        NEO4J_USER: neo4j.user,
        NEO4J_PASSWORD: neo4j.password,
        NEO4J_DATABASE: neo4j.database,
        ENGINE_EXECUTOR: 'echo',
        // A worker of no tenant's: it must not take other suites' steps meanwhile.
        WORKER_TENANTS: 'npm-signals-none',
        MEMORY_INGESTION: 'off',
        EVOLUTION: 'off',
        EMBEDDINGS_PROVIDER: 'offline',
        INSTANCE_CHECK: 'off',
        LOG_LEVEL: 'info',
      },
    });
    group = npm.pid;
    let output = '';
    npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // Every process of the tree writes to these pipes: they close when the last one has exited.
    const closed = new Promise<void>((resolve) => npm.stdout.on('close', resolve));
    await expect
      .poll(() => output, { timeout: 60_000, interval: 200 })
      .toMatch(/Worker \S+ running/);

    npm.kill(signal);
    const outcome = await Promise.race([
      closed.then(() => 'every process exited'),
      new Promise((r) => setTimeout(() => r('a process was left running'), 20_000)),
    ]);
    expect(outcome, output).toBe('every process exited');
    expect(output).toMatch(`${signal} received`);
    expect(output).toMatch(/Worker stopped/);
    group = undefined;
  },
  90_000,
);
