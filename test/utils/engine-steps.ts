import { expect } from 'vitest';
import { isFinished } from '../../src/domain/task.js';
import type { Executor } from '../../src/engine/executor.js';
import type { Scheduler, SchedulerOptions } from '../../src/engine/scheduler.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import { graphql } from '../generated/index.js';
import type { CreateTaskInput } from '../generated/graphql.js';
import { startScheduler } from './engine.js';
import { startTestServer, type TestServer } from './server.js';

/** Helpers for the engine behaviour suites: a tenant per test, plans, schedulers, latches. */

const CreateOperators = graphql(`
  mutation EngineStepsCreateOperators($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

const CreatePlan = graphql(`
  mutation EngineStepsCreatePlan($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
      key
    }
  }
`);

const StartWorkflow = graphql(`
  mutation EngineStepsStartWorkflow($id: ID!) {
    startWorkflow(taskId: $id) {
      id
    }
  }
`);

/** Runs `body` in a fresh tenant on its own server, stopped (and its data deleted) afterwards. */
export async function inTenant(body: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

/** Runs `body` with a scheduler serving the tenant; the scheduler is always stopped (aborting its steps). */
export async function withScheduler(
  server: TestServer,
  executor: Executor,
  body: (scheduler: Scheduler) => Promise<void>,
  options: Partial<SchedulerOptions> = {},
): Promise<void> {
  const scheduler = startScheduler(server, executor, options);
  try {
    await body(scheduler);
  } finally {
    await scheduler.stop({ abort: true });
  }
}

/** Creates Master Operators, by name, with the capabilities given; returns their ids by name. */
export async function createOperators(
  server: TestServer,
  agents: Record<string, string[]>,
): Promise<Record<string, string>> {
  const res = await server.gql(CreateOperators, {
    inputs: Object.entries(agents).map(([name, caps]) => ({
      name,
      role: 'MASTER_OPERATOR' as const,
      capabilities: caps.map((c) => ({ name: c })),
    })),
  });
  expect(res.errors).toBeUndefined();
  return Object.fromEntries(res.data!.createAgents.map((a) => [a.name, a.id]));
}

/** Creates a plan in one batch (the first input is the root); returns ids by key. */
export async function createPlan(
  server: TestServer,
  inputs: CreateTaskInput[],
): Promise<Record<string, string>> {
  const created = await server.gql(CreatePlan, { inputs });
  expect(created.errors).toBeUndefined();
  return Object.fromEntries(created.data!.createTasks.map((t) => [t.key!, t.id]));
}

/** Hands the root task to the engine. */
export async function startWorkflow(server: TestServer, rootId: string): Promise<void> {
  const started = await server.gql(StartWorkflow, { id: rootId });
  expect(started.errors).toBeUndefined();
}

/** Creates a plan (the first input is the root) and starts it; returns ids by key. */
export async function startPlan(
  server: TestServer,
  inputs: CreateTaskInput[],
): Promise<Record<string, string>> {
  const ids = await createPlan(server, inputs);
  await startWorkflow(server, ids[inputs[0]!.key!]!);
  return ids;
}

/**
 * The tenant's tasks' ends as published. A poll that finds a step COMPLETED may still miss what
 * the same commit created (found by an index): Neo4j applies a commit's changes while readers
 * run (read-committed, neo4j/neo4j#12082). The event is published after the commit returned,
 * when all of it reads back, as a subscribed client sees it. `stop` ends the subscription.
 */
export function publishedEnds(server: TestServer) {
  const ended = new Set<string>();
  const events = server.pubsub.subscribe(TOPICS.taskUpdated, { tenantId: server.tenantId });
  void (async () => {
    for await (const e of events) {
      const { task } = e as TaskUpdatedEvent;
      if (isFinished(task.status)) ended.add(task.id);
    }
  })();
  return {
    /** Resolves once the task's end was published; fails after `timeoutMs`. */
    ended: (taskId: string, timeoutMs?: number) =>
      eventually(`the end of task ${taskId} to be published`, () => ended.has(taskId), timeoutMs),
    stop: () => void events.return?.(),
  };
}

/** A gate a test opens once; executors wait on `opened`. */
export function latch(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Rejects with the signal's reason once it is aborted; never resolves. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Polls `check` until it returns something truthy; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  // Generous (it returns as soon as the check holds; two suite copies on 2 cores are slow), and
  // under the 30 s test timeout so a failure names what it waited for.
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
