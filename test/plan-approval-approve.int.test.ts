import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scheduler } from '../src/engine/scheduler.js';
import { graphql } from './generated/index.js';
import { byKey, sweepNow, waitForWorkflow } from './utils/engine.js';
import { type TestServer } from './utils/server.js';
import { untilBlocked } from './utils/blocked.js';
import { lockTask, patchTask } from '../graph/task.repository.js';
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
  heldPlan,
} from './utils/plan-approval-fixtures.js';

/*
 * Plan approval on the offline model: a submitted plan held in AWAITING_APPROVAL, then run as
 * edited by approvePlan (plan-approval-reject.int.test.ts: rejection, reviewPlans, refusals).
 */

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

describe('plan approval, on the offline model', { timeout: 3 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  beforeAll(async () => {
    ({ server, scheduler } = await startPlanApproval());
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server.stop();
  });

  const plan = (rootId: string) => planOf(server, rootId);

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
      // The planner's own summary is no answer: the task has a result once it completes.
      expect(root).toMatchObject({
        status: 'AWAITING_APPROVAL',
        waitingReason: PLAN_WAITS,
        result: null,
      });
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

  it("keeps a step's edit that committed while the approval waited for the step", async () => {
    const rootId = await heldPlan(
      server,
      'Tram brief',
      'Research the market for trams. Then write a one-page brief.',
    );
    const first = (await plan(rootId)).tasks.find((t) => t.key === 'step-1')!;
    let approved: Promise<unknown> | undefined;
    // A person's updateTask of the step holds its lock until it commits; the approval, which
    // changes the step's priority, starts meanwhile.
    await server.graph.write(async (tx) => {
      await lockTask(tx, server.tenantId, first.id);
      await patchTask(tx, server.tenantId, first.id, { title: 'Research trams in Europe' });
      approved = server.gql(ApprovePlan, {
        taskId: rootId,
        edits: { change: [{ key: 'step-1', priority: 'HIGH' }] },
      });
      await untilBlocked(server.graph, 'the approval to wait for the step', {
        name: 'rootId',
        value: rootId,
      });
    });
    expect((await approved) as object).not.toHaveProperty('errors');
    const step = (await plan(rootId)).tasks.find((t) => t.key === 'step-1')!;
    expect(step.title).toBe('Research trams in Europe');
    await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id: rootId } as never);
  });

  it("keeps a person's sign-off on a step, which is not a step of the plan, through the approval", async () => {
    const rootId = await heldPlan(
      server,
      'Scooter brief',
      'Research the market for scooters. Then write a one-page brief.',
    );
    const steps = (await plan(rootId)).tasks.filter((t) => t.id !== rootId);
    const first = steps.find((t) => t.key === 'step-1')!;
    const synthesis = steps.find((t) => t.key === 'synthesis')!;
    // A task of a person's own that the first step and the synthesis wait for.
    const gate = await server.gql(
      `mutation { createTask(input: { title: "legal sign-off" }) { id } }`,
    );
    const gateId = (gate.data as { createTask: { id: string } }).createTask.id;
    for (const id of [first.id, synthesis.id]) {
      const DEPEND = `mutation($id: ID!, $on: ID!) { addTaskDependency(id: $id, dependsOnId: $on) { id } }`;
      expect((await server.gql(DEPEND, { id, on: gateId } as never)).errors).toBeUndefined();
    }
    const approved = await server.gql(ApprovePlan, {
      taskId: rootId,
      edits: { change: [{ key: 'step-1', title: 'Research the scooter market in Europe' }] },
    });
    expect(approved.errors).toBeUndefined();
    const gated = await server.graph.read((tx) =>
      tx.run<{ id: string }>({
        cypher: `MATCH (t:Task)-[:DEPENDS_ON]->(:Task {id: $gateId}) RETURN t.id AS id ORDER BY id`,
        params: { gateId },
      }),
    );
    expect(gated.map((r) => r.id)).toEqual([first.id, synthesis.id].sort());
    await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id: rootId } as never);
  });
  // The plan ran without it and the synthesis answered, yet the root settled CANCELLED ("1 of 3
  // steps were cancelled") with no result: the removed step still counted as the plan's.
  it('leaves a step a person cancelled CANCELLED when the approval then removes it, and the plan completes without it', async () => {
    const rootId = await heldPlan(
      server,
      'Ferry brief',
      'Research the market for ferries. Then write a one-page brief.',
    );
    const last = (await plan(rootId)).tasks.find((t) => t.key === 'step-2')!;
    const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status error } }`;
    const cancelled = await server.gql(CANCEL, { id: last.id } as never);
    expect(cancelled.errors).toBeUndefined();
    const { error } = (cancelled.data as { cancelTask: { error: string | null } }).cancelTask;
    const approved = await server.gql(ApprovePlan, {
      taskId: rootId,
      edits: { remove: ['step-2'] },
    });
    expect(approved.errors).toBeUndefined();
    const step = (await plan(rootId)).tasks.find((t) => t.id === last.id)!;
    expect({ status: step.status, error: step.error }).toEqual({ status: 'CANCELLED', error });
    const done = await waitForWorkflow(server, rootId, finished(rootId), WORKFLOW_MS);
    const root = done.find((t) => t.id === rootId)!;
    expect({ status: root.status, error: root.error }).toEqual({
      status: 'COMPLETED',
      error: null,
    });
    expect(root.result).toBe(byKey(done)['synthesis']!.result);
    expect(done.find((t) => t.id === last.id)!.status).toBe('CANCELLED');
    // Neither a client nor the task's evaluation could tell why that CANCELLED step did not
    // count: the Task had no removedFromPlan, and the reasons said "1 cancelled".
    const read = await server.gql(REMOVED, { step: last.id, root: rootId } as never);
    expect(read.errors).toBeUndefined();
    const { step: removed, root: judged } = read.data as {
      step: { status: string; removedFromPlan: boolean };
      root: { removedFromPlan: boolean; evaluations: { source: string; reasons: string[] }[] };
    };
    expect(removed).toEqual({ status: 'CANCELLED', removedFromPlan: true });
    expect(judged.removedFromPlan).toBe(false);
    const objective = judged.evaluations.find((e) => e.source === 'OBJECTIVE')!;
    expect(objective.reasons).toContain(
      '1 step(s) removed from the plan by a person (not counted)',
    );
    expect(objective.reasons.join('\n')).toMatch(/0 cancelled/);
  });
});

const REMOVED = `query($step: ID!, $root: ID!) {
  step: task(id: $step) { status removedFromPlan }
  root: task(id: $root) { removedFromPlan evaluations { source reasons } }
}`;
