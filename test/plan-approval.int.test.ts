import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { graphql } from './generated/index.js';
import { byKey, startScheduler, sweepNow, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe, type Subscription } from './utils/ws.js';

const SubmitForReview = graphql(`
  mutation SubmitForReview($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
      status
      planApproval
    }
  }
`);

const ApprovePlan = graphql(`
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

const RejectPlan = graphql(`
  mutation RejectPlan($taskId: ID!, $reason: String!) {
    rejectPlan(taskId: $taskId, reason: $reason) {
      id
      status
      planFeedback
      decision
    }
  }
`);

const PlanDetails = graphql(`
  query PlanDetails($taskId: ID!) {
    workflow(taskId: $taskId) {
      tasks {
        id
        key
        title
        description
        status
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

const PlanAudit = graphql(`
  query PlanAudit($target: ID!) {
    auditEvents(filter: { targetId: $target }) {
      nodes {
        operation
        outcome
        actor
      }
    }
  }
`);

const SetReviewPlans = graphql(`
  mutation SetReviewPlans($id: ID!, $on: Boolean) {
    updateAgent(id: $id, input: { reviewPlans: $on }) {
      id
      reviewPlans
    }
  }
`);

const WatchPlans = graphql(`
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
const WORKFLOW_MS = 60_000;
const PLAN_WAITS = 'the plan waits for approval';

type Event = { change: string; task: { id: string; key: string | null; status: string } };

/** Events until `done` holds over all of them (the subscription delivers in commit order). */
async function eventsUntil(
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

describe('plan approval, on the offline model', { timeout: 3 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  let chiefId = '';
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id name } }`);
    expect(res.errors).toBeUndefined();
    chiefId = (res.data as { createAgents: { id: string; name: string }[] }).createAgents[0]!.id;
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server.stop();
  });

  const plan = async (rootId: string) => {
    const res = await server.gql(PlanDetails, { taskId: rootId });
    expect(res.errors).toBeUndefined();
    return res.data!.workflow;
  };
  const waiting = (rootId: string) => (all: { id: string; status: string }[]) =>
    all.find((t) => t.id === rootId)?.status === 'AWAITING_APPROVAL' ||
    all.some((t) => t.status === 'FAILED');
  const finished = (rootId: string) => (all: { id: string; status: string }[]) =>
    ['COMPLETED', 'FAILED', 'CANCELLED'].includes(all.find((t) => t.id === rootId)!.status);

  it('holds a submitted plan in AWAITING_APPROVAL with no step running, then runs the plan as edited by approvePlan', async () => {
    const submitted = await server.gql(SubmitForReview, {
      input: {
        title: 'Electric bike brief',
        description:
          'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.',
        planApproval: true,
      },
    });
    expect(submitted.errors).toBeUndefined();
    const rootId = submitted.data!.submitTask.id;
    expect(submitted.data!.submitTask.planApproval).toBe(true);
    const events = await subscribe(server, WatchPlans, { rootId });
    const seen: Event[] = [];
    try {
      await waitForWorkflow(server, rootId, waiting(rootId), WORKFLOW_MS);
      // A pass of the engine promotes what is due: nothing under a plan that waits.
      await sweepNow(server);
      const held = await plan(rootId);
      const root = held.tasks.find((t) => t.id === rootId)!;
      expect(root).toMatchObject({ status: 'AWAITING_APPROVAL', waitingReason: PLAN_WAITS });
      const steps = held.tasks.filter((t) => t.id !== rootId);
      expect(steps.map((s) => s.key).sort()).toEqual(['step-1', 'step-2', 'step-3', 'synthesis']);
      expect(steps.every((s) => s.status === 'PENDING' && s.runs.length === 0)).toBe(true);
      await eventsUntil(events, seen, (e) =>
        e.some((x) => x.task.id === rootId && x.task.status === 'AWAITING_APPROVAL'),
      );

      // Edits a model could not have made are refused whole: nothing changes.
      const refused = await server.gql(ApprovePlan, {
        taskId: rootId,
        edits: { remove: ['step-1'], change: [{ key: 'step-3', title: 'A shorter brief' }] },
      });
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toBe(
        'edits: step "step-2" (dependsOn): step "step-2" depends on "step-1", which is not a step of the plan',
      );
      const cycle = await server.gql(ApprovePlan, {
        taskId: rootId,
        edits: { change: [{ key: 'step-1', dependsOn: ['step-3'] }] },
      });
      expect(cycle.errors?.[0]?.message).toMatch(/^edits\.change\[0\]\.dependsOn: .* cycle/);
      expect(await plan(rootId)).toEqual(held);

      const approved = await server.gql(ApprovePlan, {
        taskId: rootId,
        edits: {
          remove: ['step-2'],
          change: [
            {
              key: 'step-3',
              title: 'Write a brief for investors',
              dependsOn: ['step-1', 'sources'],
            },
          ],
          add: [
            {
              key: 'sources',
              title: 'List the sources',
              description: 'List the sources of the market figures.',
              capabilities: ['research'],
              dependsOn: ['step-1'],
            },
          ],
        },
      });
      expect(approved.errors).toBeUndefined();
      expect(approved.data!.approvePlan).toMatchObject({
        status: 'IN_PROGRESS',
        waitingReason: null,
        decision: 'APPROVED',
        decidedBy: 'test admin',
        decisionComment: 'changed step-3; added sources; removed step-2',
      });

      const done = await waitForWorkflow(server, rootId, finished(rootId), WORKFLOW_MS);
      const k = byKey(done);
      expect(done.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
      expect(k['step-2']).toMatchObject({ status: 'SKIPPED', runs: [] });
      expect(k['step-2']!.error).toBe('removed from the plan by test admin');
      for (const key of ['step-1', 'sources', 'step-3', 'synthesis'])
        expect(k[key]!.status, key).toBe('COMPLETED');
      expect(k['step-3']!.title).toBe('Write a brief for investors');
      expect(k.sources!.assignment?.agent.name).toBe('Researcher');
      const after = await plan(rootId);
      const sources = after.tasks.find((t) => t.key === 'sources')!;
      expect(sources.requiredCapabilities).toEqual(['research']);
      const keyOf = new Map(after.tasks.map((t) => [t.id, t.key]));
      const deps = after.edges
        .filter((e) => e.type === 'DEPENDS_ON')
        .map((e) => `${keyOf.get(e.from)}->${keyOf.get(e.to)}`)
        .sort();
      expect(deps).toEqual([
        'sources->step-1',
        'step-2->step-1', // the removed step keeps its own edges, as history
        'step-3->sources',
        'step-3->step-1',
        'synthesis->sources',
        'synthesis->step-1',
        'synthesis->step-3',
      ]);

      // A step a person added is delegated like a planned one.
      const [delegated] = await server.graph.read((tx) =>
        tx.run<{ n: number }>({
          cypher: `MATCH (:Agent {name: 'Chief', tenantId: $tenantId})-[:SENT]->(m:Message {kind: 'DELEGATION'})
                         -[:ABOUT]->(:Task {id: $stepId}),
                         (m)-[:TO]->(:Agent {name: 'Researcher'})
                   RETURN count(m) AS n`,
          params: { tenantId: server.tenantId, stepId: sources.id },
        }),
      );
      expect(delegated!.n).toBe(1);

      // The subscription saw the approval change the root and every edited step.
      await eventsUntil(
        events,
        seen,
        (e) => e.filter((x) => x.change === 'PLAN_APPROVED').length >= 5,
      );
      const approvals = seen.filter((x) => x.change === 'PLAN_APPROVED');
      expect(approvals.map((x) => x.task.key ?? 'root').sort()).toEqual(
        ['root', 'sources', 'step-2', 'step-3', 'synthesis'].sort(),
      );
      expect(approvals.find((x) => x.task.key === 'step-2')!.task.status).toBe('SKIPPED');

      const audit = await server.gql(PlanAudit, { target: rootId });
      const outcomes = audit.data!.auditEvents.nodes.filter((n) => n.operation === 'approvePlan');
      expect(outcomes.map((n) => n.outcome).sort()).toEqual(['FAILURE', 'FAILURE', 'SUCCESS']);
    } finally {
      await events.close();
    }
  });

  it('sends a rejected plan back to the Chief of Staff with the reason, cancels its steps, and holds the new plan again', async () => {
    const submitted = await server.gql(SubmitForReview, {
      input: {
        title: 'Bike prices',
        description: 'Research the prices of electric bikes. Then write a short note.',
        planApproval: true,
      },
    });
    const rootId = submitted.data!.submitTask.id;
    const events = await subscribe(server, WatchPlans, { rootId });
    const seen: Event[] = [];
    try {
      await waitForWorkflow(server, rootId, waiting(rootId), WORKFLOW_MS);
      const first = (await plan(rootId)).tasks.filter((t) => t.id !== rootId);
      const reason = 'Research the three biggest brands as well';

      const rejected = await server.gql(RejectPlan, { taskId: rootId, reason });
      expect(rejected.errors).toBeUndefined();
      expect(rejected.data!.rejectPlan).toMatchObject({
        status: 'READY',
        planFeedback: reason,
        decision: 'REJECTED',
      });
      await eventsUntil(
        events,
        seen,
        (e) => e.filter((x) => x.change === 'PLAN_REJECTED').length >= first.length + 1,
      );
      const cancelled = seen.filter((x) => x.change === 'PLAN_REJECTED' && x.task.id !== rootId);
      expect(cancelled.map((x) => x.task.id).sort()).toEqual(first.map((t) => t.id).sort());
      expect(cancelled.every((x) => x.task.status === 'CANCELLED')).toBe(true);

      // Planned again, with the reason in the Chief of Staff's prompt, and held again.
      await waitForWorkflow(
        server,
        rootId,
        (all) =>
          (all.find((t) => t.id === rootId)?.status === 'AWAITING_APPROVAL' && all.length > 1) ||
          all.some((t) => t.status === 'FAILED'),
        WORKFLOW_MS,
      );
      const second = await plan(rootId);
      const steps = second.tasks.filter((t) => t.id !== rootId);
      expect(steps.every((s) => s.status === 'PENDING')).toBe(true);
      expect(steps.map((s) => s.id).filter((id) => first.some((f) => f.id === id))).toEqual([]);
      expect(steps.some((s) => s.description?.includes('three biggest brands'))).toBe(true);
      const [old] = await server.graph.read((tx) =>
        tx.run<{ n: number; statuses: string[] }>({
          cypher: `MATCH (s:Task)-[:REJECTED_STEP_OF]->(:Task {id: $rootId})
                   RETURN count(s) AS n, collect(DISTINCT s.status) AS statuses`,
          params: { rootId },
        }),
      );
      expect(old).toEqual({ n: first.length, statuses: ['CANCELLED'] });

      const approved = await server.gql(ApprovePlan, { taskId: rootId });
      expect(approved.errors).toBeUndefined();
      const done = await waitForWorkflow(server, rootId, finished(rootId), WORKFLOW_MS);
      expect(done.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
    } finally {
      await events.close();
    }
  });

  it("holds plans by the Chief of Staff's reviewPlans unless submitTask says otherwise", async () => {
    const on = await server.gql(SetReviewPlans, { id: chiefId, on: true });
    expect(on.data!.updateAgent.reviewPlans).toBe(true);
    try {
      const byDefault = await server.gql(SubmitForReview, {
        input: { title: 'Held by default', description: 'Research bikes. Then write a note.' },
      });
      expect(byDefault.data!.submitTask.planApproval).toBe(true);
      const optedOut = await server.gql(SubmitForReview, {
        input: {
          title: 'Not held',
          description: 'Research bikes. Then write a note.',
          planApproval: false,
        },
      });
      expect(optedOut.data!.submitTask.planApproval).toBe(false);
      const heldId = byDefault.data!.submitTask.id;
      const freeId = optedOut.data!.submitTask.id;
      const free = await waitForWorkflow(server, freeId, finished(freeId), WORKFLOW_MS);
      expect(free.find((t) => t.id === freeId)!.status).toBe('COMPLETED');
      const held = await waitForWorkflow(server, heldId, waiting(heldId), WORKFLOW_MS);
      expect(held.find((t) => t.id === heldId)).toMatchObject({
        status: 'AWAITING_APPROVAL',
        waitingReason: PLAN_WAITS,
      });
      // A held plan can be cancelled whole, as any workflow.
      const cancelled = await server.gql(`mutation { cancelTask(id: "${heldId}") { status } }`);
      expect(cancelled.errors).toBeUndefined();
      const after = await plan(heldId);
      expect([...new Set(after.tasks.map((t) => t.status))]).toEqual(['CANCELLED']);
    } finally {
      await server.gql(SetReviewPlans, { id: chiefId, on: false });
    }
  });

  it('refuses approvePlan and rejectPlan on a task with no plan waiting, and for another tenant', async () => {
    const noPlan = await server.gql(SubmitForReview, {
      input: {
        title: 'No review',
        description: 'Research bikes. Then write a note.',
        planApproval: false,
      },
    });
    const id = noPlan.data!.submitTask.id;
    const approve = await server.gql(ApprovePlan, { taskId: id });
    expect(approve.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(approve.errors?.[0]?.message).toMatch(
      /^approvePlan needs a submitted task whose plan waits for approval/,
    );
    const reject = await server.gql(RejectPlan, { taskId: id, reason: 'no' });
    expect(reject.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const empty = await server.gql(RejectPlan, { taskId: id, reason: '  ' });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await waitForWorkflow(server, id, finished(id), WORKFLOW_MS);

    const other = await startTestServer();
    try {
      const foreign = await other.gql(ApprovePlan, { taskId: id });
      expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    } finally {
      await other.stop();
    }
  });
});
