import { expect } from 'vitest';
import type { Executor } from '../../src/engine/executor.js';
import { Scheduler, type SchedulerOptions } from '../../src/engine/scheduler.js';
import { untilDone } from './progress.js';
import { agentExecutor } from '../../src/agents/executor.js';
import { createAgentRuntime } from '../../src/agents/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import type { TestServer } from './server.js';
import type { BacklogLimits } from '../../src/domain/backlog.js';

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
    // Longer than any step takes on a loaded machine: a 2 s lease expired mid-step under two
    // suite copies and ran steps twice. Tests about expiry pass their own short lease.
    leaseMs: 15_000,
    backoff: { baseMs: 20, maxMs: 200 },
    // Only this suite's tenant: suites running in parallel never run each other's steps.
    tenantIds: [server.tenantId],
    ...options,
  });
  scheduler.start();
  return scheduler;
}

/** The agents on the offline model at work on the test tenant's steps; stopped by the caller. */
export function startOfflineAgents(
  server: TestServer,
  options: Partial<SchedulerOptions> = {},
  /** The caps a plan is held to (TENANT_MAX_QUEUED_STEPS); the defaults when unset. */
  backlog?: BacklogLimits,
): Scheduler {
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm: loadConfig({}).llm,
    logger: server.logger,
    pubsub: server.pubsub,
    backlog,
  });
  return startScheduler(server, agentExecutor(runtime), options);
}

/** The model settings for the scripted OpenAI-compatible server at `baseURL`: one try each. */
export const scriptedLlm = (baseURL: string) =>
  loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: baseURL,
    LLM_MODEL: 'scripted-1',
    LLM_MAX_RETRIES: '0',
  }).llm;

/**
 * The agents on the scripted server at `baseURL` at work on the test tenant's steps (no pubsub:
 * nothing streams), a lease of 10 s; stopped by the caller.
 */
export function startScriptedAgents(server: TestServer, baseURL: string): Scheduler {
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm: scriptedLlm(baseURL),
    logger: server.logger,
  });
  return startScheduler(server, agentExecutor(runtime), { leaseMs: 10_000 });
}

/**
 * One pass of a fresh, never-started scheduler over the test tenant, now: it sweeps expired
 * leases, settles the parents it can settle and promotes what is due, but claims nothing (only a
 * started scheduler claims). A running scheduler sweeps only every leaseMs/3, while a new one
 * sweeps on its first tick: tests call this instead of sleeping through a sweep they cannot see.
 */
export async function sweepNow(server: TestServer, logger = server.logger): Promise<void> {
  const sweeper = new Scheduler({
    uow: server.services.uow,
    logger,
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
  waitingReason: string | null;
  assignment: { agent: { name: string }; score: number | null; reason: string | null } | null;
  runs: {
    status: string;
    attempt: number;
    worker: string | null;
    agent: { name: string } | null;
  }[];
}

/**
 * Polls workflow(rootId) until `done` holds; fails when no task changed status, attempts or
 * runs for `stallMs` (see untilDone: slow is allowed, stalled is not).
 */
export async function waitForWorkflow(
  server: TestServer,
  rootId: string,
  done: (tasks: WorkflowTask[]) => boolean,
  stallMs = 20_000,
): Promise<WorkflowTask[]> {
  const [tasks] = await waitForWorkflows(server, [rootId], done, stallMs);
  return tasks!;
}

/**
 * waitForWorkflow for several workflows at once: each must reach `done`, and progress in any
 * of them counts (steps of one wait while shared agents work on the others).
 */
export async function waitForWorkflows(
  server: TestServer,
  rootIds: string[],
  done: (tasks: WorkflowTask[]) => boolean,
  stallMs = 20_000,
): Promise<WorkflowTask[][]> {
  let seen: WorkflowTask[][] = [];
  const workflow = async (id: string) => {
    const res = await server.gql(
      `query($id: ID!) { workflow(taskId: $id) { tasks { id key title status result error attempts waitingReason
         assignment { agent { name } score reason }
         runs { status attempt worker agent { name } } } } }`,
      { id } as never,
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return (res.data as { workflow: { tasks: WorkflowTask[] } }).workflow.tasks;
  };
  const read = async () => (seen = await Promise.all(rootIds.map(workflow)));
  const progress = (all: WorkflowTask[][]) =>
    JSON.stringify(
      all.map((ts) => ts.map((t) => [t.status, t.attempts, t.runs.map((r) => r.status)])),
    );
  const settled = await untilDone({
    read,
    done: (all) => all.every(done),
    progress,
    stallMs,
    what: 'workflow',
    everyMs: 50,
  }).catch((err: Error) => {
    const states = seen.map((ts) =>
      ts.map((t) => [t.key ?? t.title, t.status, t.attempts, t.waitingReason]),
    );
    throw new Error(`workflow did not settle (${err.message}): ${JSON.stringify(states)}`);
  });
  // Neo4j reads committed data without read locks: a read made while a step's end commits
  // can hold a node's new status beside its old error. What a test asserts is read once more.
  const again = await read();
  return again.every(done) ? again : settled;
}

export const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'];
export const allFinished = (tasks: WorkflowTask[]) =>
  tasks.every((t) => FINISHED.includes(t.status));
export const byKey = (tasks: WorkflowTask[]) =>
  Object.fromEntries(tasks.map((t) => [t.key ?? t.title, t]));

/**
 * A Chief of Staff and operators for every capability the offline model plans with (research,
 * writing, general): a submitted task on the offline model runs to its end.
 */
export async function createOfflineOrganisation(server: TestServer): Promise<void> {
  const res = await server.gql(`mutation { createAgents(inputs: [
    { name: "Chief", role: CHIEF_OF_STAFF },
    { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
    { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] },
    { name: "Generalist", role: MASTER_OPERATOR, capabilities: [{ name: "general" }] }
  ]) { id } }`);
  expect(res.errors).toBeUndefined();
}
