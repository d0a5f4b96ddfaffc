import { expect } from 'vitest';
import { agentExecutor } from '../../src/agents/executor.js';
import { createAgentRuntime } from '../../src/agents/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import type { Scheduler } from '../../src/engine/scheduler.js';
import { graphql } from '../generated/index.js';
import { startScheduler, waitForWorkflow } from './engine.js';
import { startTestServer, type TestServer } from './server.js';
import { type Subscription } from './ws.js';

/*
 * The plan approval suites' fixtures: their operations, a server with a Chief of Staff and three
 * operators on the offline model under a scheduler, and waits for a workflow's plan.
 */

export const SubmitForReview = graphql(`
  mutation SubmitForReview($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
      status
      planApproval
    }
  }
`);

export const ApprovePlan = graphql(`
  mutation ApprovePlan($taskId: ID!, $edits: PlanEditsInput) {
    approvePlan(taskId: $taskId, edits: $edits) {
      id
      status
      waitingReason
      decision
      decidedBy
      decisionComment
    }
  }
`);

export const PlanDetails = graphql(`
  query PlanDetails($taskId: ID!) {
    workflow(taskId: $taskId) {
      tasks {
        id
        key
        title
        description
        status
        result
        error
        waitingReason
        planApproval
        requiredCapabilities
        runs {
          status
        }
      }
      edges {
        from
        to
        type
      }
    }
  }
`);

export const WatchPlans = graphql(`
  subscription WatchPlans($rootId: ID) {
    taskUpdated(rootId: $rootId) {
      change
      task {
        id
        key
        status
        waitingReason
      }
    }
  }
`);

/** How long the offline agents may take for a workflow on a loaded machine. */
export const WORKFLOW_MS = 60_000;
export const PLAN_WAITS = 'the plan waits for approval';

export type Event = { change: string; task: { id: string; key: string | null; status: string } };

/** Events until `done` holds over all of them (the subscription delivers in commit order). */
export async function eventsUntil(
  sub: Subscription<unknown>,
  seen: Event[],
  done: (e: Event[]) => boolean,
) {
  while (!done(seen)) {
    const next = await sub.waitForNext(WORKFLOW_MS);
    expect(next.errors).toBeUndefined();
    seen.push((next.data as { taskUpdated: Event }).taskUpdated);
  }
  return seen;
}

/** A server with "Chief" (CHIEF_OF_STAFF) and three operators, and a scheduler running them. */
export async function startPlanApproval(): Promise<{
  server: TestServer;
  scheduler: Scheduler;
  chiefId: string;
}> {
  const server = await startTestServer();
  const res = await server.gql(`mutation { createAgents(inputs: [
    { name: "Chief", role: CHIEF_OF_STAFF },
    { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
    { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
    { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
  ]) { id name } }`);
  expect(res.errors).toBeUndefined();
  const agents = (res.data as { createAgents: { id: string; name: string }[] }).createAgents;
  const chiefId = agents[0]!.id;
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm: loadConfig({}).llm,
    logger: server.logger,
    pubsub: server.pubsub,
  });
  const scheduler = startScheduler(server, agentExecutor(runtime), {
    stepTimeoutMs: 30_000,
    leaseMs: 10_000,
  });
  return { server, scheduler, chiefId };
}

/** The workflow of `rootId`: its tasks and plan. */
export async function planOf(server: TestServer, rootId: string) {
  const res = await server.gql(PlanDetails, { taskId: rootId });
  expect(res.errors).toBeUndefined();
  return res.data!.workflow;
}

/** Whether the root waits for approval (or a task failed), over a workflow's tasks. */
export const waiting = (rootId: string) => (all: { id: string; status: string }[]) =>
  all.find((t) => t.id === rootId)?.status === 'AWAITING_APPROVAL' ||
  all.some((t) => t.status === 'FAILED');
/** Whether the root has ended, over a workflow's tasks. */
export const finished = (rootId: string) => (all: { id: string; status: string }[]) =>
  ['COMPLETED', 'FAILED', 'CANCELLED'].includes(all.find((t) => t.id === rootId)!.status);

/** Submits a task whose plan waits for approval and returns its root once the plan waits. */
export async function heldPlan(server: TestServer, title: string, description: string) {
  const submitted = await server.gql(SubmitForReview, {
    input: { title, description, planApproval: true },
  });
  expect(submitted.errors).toBeUndefined();
  const rootId = submitted.data!.submitTask.id;
  await waitForWorkflow(server, rootId, waiting(rootId), WORKFLOW_MS);
  return rootId;
}
