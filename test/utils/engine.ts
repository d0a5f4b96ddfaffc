import { expect } from 'vitest';
import type { Executor } from '../../src/engine/executor.js';
import { Scheduler, type SchedulerOptions } from '../../src/engine/scheduler.js';
import type { TestServer } from './server.js';

/** A scheduler in this test process against the test server's graph, stopped by the caller. */
export function startScheduler(
  server: TestServer,
  executor: Executor,
  options: Partial<SchedulerOptions> = {},
): Scheduler {
  const scheduler = new Scheduler({
    uow: server.services.uow,
    logger: server.logger,
    pubsub: server.pubsub,
    executor,
    pollMs: 20,
    leaseMs: 2_000,
    backoff: { baseMs: 20, maxMs: 200 },
    // Only this suite's tenant: suites running in parallel never run each other's steps.
    tenantIds: [server.tenantId],
    ...options,
  });
  scheduler.start();
  return scheduler;
}

/**
 * One pass of a fresh, never-started scheduler over the test tenant, now: it sweeps expired
 * leases, settles the parents it can settle and promotes what is due, but claims nothing (only a
 * started scheduler claims). A running scheduler sweeps only every leaseMs/3, while a new one
 * sweeps on its first tick: tests call this instead of sleeping through a sweep they cannot see.
 */
export async function sweepNow(server: TestServer): Promise<void> {
  const sweeper = new Scheduler({
    uow: server.services.uow,
    logger: server.logger,
    executor: () => Promise.reject(new Error('a sweep runs no steps')),
    workerId: 'test-sweeper',
    tenantIds: [server.tenantId],
  });
  await sweeper.tick();
}

interface WorkflowTask {
  id: string;
  key: string | null;
  title: string;
  status: string;
  result: string | null;
  error: string | null;
  attempts: number;
  assignment: { agent: { name: string }; score: number | null; reason: string | null } | null;
  runs: {
    status: string;
    attempt: number;
    worker: string | null;
    agent: { name: string } | null;
  }[];
}

/** Polls workflow(rootId) until `done` holds (or fails after `timeoutMs`). */
export async function waitForWorkflow(
  server: TestServer,
  rootId: string,
  done: (tasks: WorkflowTask[]) => boolean,
  timeoutMs = 20_000,
): Promise<WorkflowTask[]> {
  const deadline = Date.now() + timeoutMs;
  let tasks: WorkflowTask[] = [];
  while (Date.now() < deadline) {
    const res = await server.gql(
      `query($id: ID!) { workflow(taskId: $id) { tasks { id key title status result error attempts
         assignment { agent { name } score reason }
         runs { status attempt worker agent { name } } } } }`,
      { id: rootId } as never,
    );
    expect(res.errors).toBeUndefined();
    tasks = (res.data as { workflow: { tasks: WorkflowTask[] } }).workflow.tasks;
    if (done(tasks)) return tasks;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `workflow did not settle: ${JSON.stringify(tasks.map((t) => [t.key ?? t.title, t.status]))}`,
  );
}

export const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'];
export const allFinished = (tasks: WorkflowTask[]) =>
  tasks.every((t) => FINISHED.includes(t.status));
export const byKey = (tasks: WorkflowTask[]) =>
  Object.fromEntries(tasks.map((t) => [t.key ?? t.title, t]));
