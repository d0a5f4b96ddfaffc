import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scheduler } from '../src/engine/scheduler.js';
import { waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { exportOf, importInto } from './utils/organisation-fixtures.js';
import {
  ApprovePlan,
  WORKFLOW_MS,
  finished,
  heldPlan,
  planOf,
  startPlanApproval,
} from './utils/plan-approval-fixtures.js';

/*
 * retryTask of a task whose approved plan left out a step a person had cancelled: the retry
 * reopened the removed step (it is CANCELLED), ran it again and counted it against
 * TENANT_MAX_QUEUED_STEPS, though approvePlan had taken it out of the plan.
 */

const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
const RETRY = `mutation($id: ID!) { retryTask(id: $id) { id status } }`;

describe(
  'retrying a task after its approved plan removed a cancelled step',
  {
    timeout: 3 * WORKFLOW_MS,
  },
  () => {
    let server: TestServer;
    let scheduler: Scheduler;
    let copy: TestServer;
    beforeAll(async () => {
      ({ server, scheduler } = await startPlanApproval());
      copy = await startTestServer();
    });
    afterAll(async () => {
      await scheduler?.stop();
      await server?.stop();
      await copy?.stop();
    });

    it('never reopens the removed step, here nor in an imported copy, and reruns the rest', async () => {
      const rootId = await heldPlan(
        server,
        'Tram brief',
        'Research the market for trams. Then write a one-page brief.',
      );
      const steps = (await planOf(server, rootId)).tasks;
      const [first, removed] = ['step-1', 'step-2'].map((k) => steps.find((t) => t.key === k)!);
      // The first step cancelled too: once approved, the plan ends CANCELLED without running.
      for (const id of [removed!.id, first!.id]) {
        expect((await server.gql(CANCEL, { id } as never)).errors).toBeUndefined();
      }
      const approved = await server.gql(ApprovePlan, {
        taskId: rootId,
        edits: { remove: ['step-2'] },
      });
      expect(approved.errors).toBeUndefined();
      const ended = await waitForWorkflow(server, rootId, finished(rootId), WORKFLOW_MS);
      expect(ended.find((t) => t.id === rootId)!.status).toBe('CANCELLED');
      const document = await exportOf(server);

      const retried = await server.gql(RETRY, { id: rootId } as never);
      expect(retried.errors).toBeUndefined();
      const done = await waitForWorkflow(server, rootId, finished(rootId), WORKFLOW_MS);
      const statuses = Object.fromEntries(done.map((t) => [t.key ?? 'root', t.status]));
      expect(statuses).toEqual({
        root: 'COMPLETED',
        'step-1': 'COMPLETED',
        'step-2': 'CANCELLED',
        synthesis: 'COMPLETED',
      });
      expect(done.find((t) => t.id === removed!.id)!.runs).toEqual([]);

      // The export carries the mark, and an import keeps it: a retry there leaves the step too.
      const index = document.nodes.findIndex((n) => n.id === removed!.id);
      expect(document.nodes[index]!.properties.removedFromPlan).toBe(true);
      const imported = await importInto(copy, document);
      expect(imported.errors).toBeUndefined();
      const ids = (imported.data as { importOrganisation: { nodeIds: string[] } })
        .importOrganisation.nodeIds;
      const idOf = (id: string) => ids[document.nodes.findIndex((n) => n.id === id)]!;
      const refused = await copy.gql(RETRY, { id: idOf(removed!.id) } as never);
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toBe(
        'Cannot retry this task: approvePlan removed it from its plan, and a removed step never runs again',
      );
      expect((await copy.gql(RETRY, { id: idOf(rootId) } as never)).errors).toBeUndefined();
      const reopened = (await planOf(copy, idOf(rootId))).tasks;
      expect(Object.fromEntries(reopened.map((t) => [t.key ?? 'root', t.status]))).toEqual({
        root: 'IN_PROGRESS',
        'step-1': 'PENDING',
        'step-2': 'CANCELLED',
        synthesis: 'PENDING',
      });
    });
  },
);
