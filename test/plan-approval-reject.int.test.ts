import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scheduler } from '../src/engine/scheduler.js';
import { graphql } from './generated/index.js';
import { sweepNow, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import {
  SubmitForReview,
  ApprovePlan,
  WatchPlans,
  WORKFLOW_MS,
  PLAN_WAITS,
  type Event,
  eventsUntil,
  startPlanApproval,
  planOf,
  waiting,
  finished,
} from './utils/plan-approval-fixtures.js';

/*
 * Plan approval on the offline model: a rejected plan sent back to the Chief of Staff, plans
 * held by reviewPlans, and refusals (plan-approval-approve.int.test.ts: approval with edits).
 */

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

const SetReviewPlans = graphql(`
  mutation SetReviewPlans($id: ID!, $on: Boolean) {
    updateAgent(id: $id, input: { reviewPlans: $on }) {
      id
      reviewPlans
    }
  }
`);

describe('plan approval, on the offline model', { timeout: 3 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  let chiefId = '';
  beforeAll(async () => {
    ({ server, scheduler, chiefId } = await startPlanApproval());
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server.stop();
  });

  const plan = (rootId: string) => planOf(server, rootId);

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
      // The reason is planned, not the line that frames it in the prompt.
      expect(steps.filter((s) => /rejected your previous plan/.test(s.title))).toEqual([]);
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
      // approveTask and rejectTask decide a step; a plan is decided with approvePlan (its
      // edits checked) or rejectPlan (planned again).
      for (const decide of ['approveTask', 'rejectTask']) {
        const refused = await server.gql(`mutation { ${decide}(id: "${heldId}") { status } }`);
        expect(refused.errors?.[0]?.extensions?.code, decide).toBe('BAD_USER_INPUT');
        expect(refused.errors?.[0]?.message).toMatch(/plan waits for approval: approvePlan/);
      }
      // A held plan can be cancelled whole, as any workflow.
      const cancel = () =>
        server.gql(`mutation { cancelTask(id: "${heldId}") { status waitingReason } }`);
      // Walked by hand: the CANCELLED task still said "the plan waits for approval".
      expect((await cancel()).data).toEqual({
        cancelTask: { status: 'CANCELLED', waitingReason: null },
      });
      const after = await plan(heldId);
      expect([...new Set(after.tasks.map((t) => t.status))]).toEqual(['CANCELLED']);
      // Retried, the plan nobody approved waits for approval again: no step runs before.
      const retried = await server.gql(
        `mutation { retryTask(id: "${heldId}") { status waitingReason } }`,
      );
      expect(retried.data).toEqual({
        retryTask: { status: 'AWAITING_APPROVAL', waitingReason: PLAN_WAITS },
      });
      await sweepNow(server);
      const again = await plan(heldId);
      const steps = again.tasks.filter((t) => t.id !== heldId);
      expect(steps.every((t) => t.status === 'PENDING' && t.runs.length === 0)).toBe(true);
      expect((await server.gql(ApprovePlan, { taskId: heldId })).errors).toBeUndefined();
      const done = await waitForWorkflow(server, heldId, finished(heldId), WORKFLOW_MS);
      expect(done.find((t) => t.id === heldId)!.status).toBe('COMPLETED');
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
