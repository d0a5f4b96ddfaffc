import { expect, inject } from 'vitest';
import { FINISHED } from './engine.js';
import { runEntry, type AppProcess } from './process.js';
import { untilDone } from './progress.js';
import { type TestServer } from './server.js';

/*
 * The engine durability suite's fixtures (engine-durability.int.test.ts): worker processes on
 * the test database, workflows of many steps made through the API, and waits for their steps.
 */

const neo4j = inject('neo4j');

/** A worker process (`npm run worker`) against the test database, serving only `tenantId`. */
export async function startWorkerProcess(
  workerId: string,
  tenantId: string,
  env: Record<string, string>,
) {
  const proc = runEntry('src/cli/worker.ts', {
    NEO4J_URI: neo4j.uri,
    NEO4J_USER: neo4j.user,
    NEO4J_PASSWORD: neo4j.password,
    NEO4J_DATABASE: neo4j.database,
    ENGINE_POLL_MS: '20',
    ENGINE_LEASE_MS: '5000',
    ECHO_DELAY_MS: '5',
    ENGINE_EXECUTOR: 'echo',
    // info, not warn: the worker says when it runs, and it logs nothing per step at info.
    LOG_LEVEL: 'info',
    WORKER_ID: workerId,
    // Only this suite's tenant: suites running in parallel never run each other's steps.
    WORKER_TENANTS: tenantId,
    ...env,
  });
  await proc.waitFor(new RegExp(`Worker ${workerId} running`));
  return proc;
}

/** SIGTERM (or the given signal) and wait for the exit; a no-op for one that has exited. */
export async function stopProcess(
  proc: AppProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  await proc.exited;
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function cypher<T extends Record<string, unknown>>(
  server: TestServer,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  return server.graph.read((tx) =>
    tx.run<T>({ cypher: query, params: { tenantId: server.tenantId, ...params } }),
  );
}

export interface StepInput {
  key: string;
  title: string;
  parentKey?: string;
  parentId?: string;
  dependsOn?: string[];
  dependsOnKeys?: string[];
}

export async function createTasks(server: TestServer, inputs: StepInput[]) {
  const res = await server.gql(
    `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id key } }`,
    { inputs },
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { createTasks: { id: string; key: string }[] }).createTasks;
}

export async function createAgents(server: TestServer, count: number) {
  const inputs = Array.from({ length: count }, (_, i) => ({
    name: `Operator ${i + 1}`,
    role: 'MASTER_OPERATOR',
    capabilities: [{ name: 'general' }],
  }));
  const res = await server.gql(
    `mutation($inputs: [CreateAgentInput!]!) { createAgents(inputs: $inputs) { id } }`,
    { inputs },
  );
  expect(res.errors).toBeUndefined();
}

export async function startWorkflow(server: TestServer, rootId: string) {
  const res = await server.gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, {
    id: rootId,
  });
  expect(res.errors).toBeUndefined();
}

/**
 * Statuses of the root's steps, and of the root, until every step and the root ended; fails
 * when no step changed status for `stallMs` (slow is allowed on a loaded machine, stalled is not).
 */
export async function waitForSteps(server: TestServer, rootId: string, stallMs: number) {
  const steps = `
    MATCH (root:Task {tenantId: $tenantId, id: $rootId})
    OPTIONAL MATCH (s:Task)-[:SUBTASK_OF]->(root)
    RETURN root.status AS root, collect(s.status) AS steps`;
  const counts = (s?: { root: string; steps: string[] }) => {
    const n: Record<string, number> = {};
    for (const x of s?.steps ?? []) n[x] = (n[x] ?? 0) + 1;
    return `root ${s?.root}, steps ${JSON.stringify(n)}`;
  };
  const [state] = await untilDone({
    read: () => cypher<{ root: string; steps: string[] }>(server, steps, { rootId }),
    done: ([s]) => !!s && FINISHED.includes(s.root) && s.steps.every((x) => FINISHED.includes(x)),
    progress: ([s]) => counts(s),
    stallMs,
    what: 'the workflow did not finish',
  }).catch(async (err: Error) => {
    const [s] = await cypher<{ root: string; steps: string[] }>(server, steps, { rootId });
    throw new Error(`${err.message}; ${counts(s)}`);
  });
  return state!;
}
