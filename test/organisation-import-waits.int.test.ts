import { expect, it } from 'vitest';
import { AwaitingInputError } from '../src/engine/awaiting-input.js';
import type { Executor } from '../src/engine/executor.js';
import {
  createOperators,
  eventually,
  inTenant,
  startPlan,
  withScheduler,
} from './utils/engine-steps.js';
import { importInto, type ImportData } from './utils/import-documents.js';
import type { Doc } from './utils/organisation-fixtures.js';
import type { TestServer } from './utils/server.js';

/*
 * Imports of workflows that waited: the export leaves out held tool calls and checkpoints, so
 * an import must not hand back a step waiting for requests that are not there.
 */

interface TaskView {
  status: string;
  error: string | null;
  waitingReason: string | null;
  attempts: number;
  toolCallRequests: { status: string }[];
}

const taskOf = async (server: TestServer, id: string): Promise<TaskView> => {
  const res = await server.gql(
    `query($id: ID!) { task(id: $id) {
      status error waitingReason attempts toolCallRequests { status } } }`,
    { id } as never,
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { task: TaskView }).task;
};

const exportOf = async (server: TestServer): Promise<Doc> => {
  const res = await server.gql(`query { exportOrganisation }`);
  expect(res.errors).toBeUndefined();
  return (res.data as { exportOrganisation: Doc }).exportOrganisation;
};

/** An executor that holds each step for a tool call once, then answers. */
function holdingOnce(): Executor {
  const held = new Set<string>();
  return async ({ task }) => {
    if (held.has(task.id)) return { result: `done ${task.title}` };
    held.add(task.id);
    throw new AwaitingInputError([{ callId: 'call-1', tool: 'send_message', args: '{}' }]);
  };
}

it('imports a step AWAITING_INPUT back READY, its wait cleared, and the engine runs it (another tenant, and the same after deleteOrganisation)', async () => {
  await inTenant(async (server) => {
    await createOperators(server, { Op: ['x'] });
    await withScheduler(server, holdingOnce(), async () => {
      const ids = await startPlan(server, [
        { key: 'root', title: 'root' },
        { key: 'ask', title: 'ask', parentKey: 'root', requiredCapabilities: ['x'] },
      ]);
      const held = await eventually('the step to wait for its tool call', async () => {
        const t = await taskOf(server, ids.ask!);
        return t.status === 'AWAITING_INPUT' ? t : null;
      });
      expect(held.toolCallRequests).toEqual([{ status: 'PENDING' }]);
      const doc = await exportOf(server);

      // Into another tenant: its ids are re-minted, nodeIds says where the step went.
      const position = doc.nodes.findIndex((n) => n.id === ids.ask);
      await inTenant(async (other) => {
        const res = await importInto(other, doc);
        expect(res.errors).toBeUndefined();
        const stored = (res.data as ImportData).importOrganisation.nodeIds[position]!;
        expect(await taskOf(other, stored)).toEqual({
          status: 'READY',
          error: null,
          waitingReason: null,
          attempts: held.attempts,
          toolCallRequests: [],
        });
      });

      // The same tenant after deleteOrganisation: the ids are kept, and the step runs again.
      const deleted = await server.gql(
        `mutation($c: String!) { deleteOrganisation(confirm: $c) {
        nodesDeleted } }`,
        { c: server.tenantId } as never,
      );
      expect(deleted.errors).toBeUndefined();
      const res = await importInto(server, doc);
      expect(res.errors).toBeUndefined();
      expect((await taskOf(server, ids.ask!)).toolCallRequests).toEqual([]);
      await eventually(
        'the imported step to run again and its workflow to end',
        async () => (await taskOf(server, ids.root!)).status === 'COMPLETED',
      );
      expect(await taskOf(server, ids.ask!)).toMatchObject({ status: 'COMPLETED', error: null });
    });
  });
});

it('keeps a finished step as it is when an older export that held it waiting is merged', async () => {
  await inTenant(async (server) => {
    await createOperators(server, { Op: ['x'] });
    await withScheduler(server, holdingOnce(), async () => {
      const ids = await startPlan(server, [
        { key: 'root', title: 'root' },
        { key: 'ask', title: 'ask', parentKey: 'root', requiredCapabilities: ['x'] },
      ]);
      await eventually(
        'the step to wait for its tool call',
        async () => (await taskOf(server, ids.ask!)).status === 'AWAITING_INPUT',
      );
      const older = await exportOf(server);

      // Its call is still PENDING in the graph: a merge keeps the step waiting for it.
      expect((await importInto(server, older, true)).errors).toBeUndefined();
      expect(await taskOf(server, ids.ask!)).toMatchObject({
        status: 'AWAITING_INPUT',
        toolCallRequests: [{ status: 'PENDING' }],
      });

      const run = await server.gql(
        `query($id: ID!) { task(id: $id) { toolCallRequests { runId callId } } }`,
        { id: ids.ask } as never,
      );
      const [request] = (run.data as { task: { toolCallRequests: object[] } }).task
        .toolCallRequests as { runId: string; callId: string }[];
      const decided = await server.gql(
        `mutation($runId: ID!, $callId: String!) {
          resolveToolCall(runId: $runId, callId: $callId, decision: APPROVE) { status } }`,
        request as never,
      );
      expect(decided.errors).toBeUndefined();
      await eventually(
        'the workflow to finish',
        async () => (await taskOf(server, ids.root!)).status === 'COMPLETED',
      );

      // The older export held the finished step AWAITING_INPUT: a merge does not reopen it (nor
      // its root), and says it kept them.
      const finished = await taskOf(server, ids.ask!);
      const merged = await importInto(server, older, true);
      expect(merged.errors).toBeUndefined();
      const kept = (merged.data as ImportData).importOrganisation.finishedTasksKept;
      expect(kept.map((i) => older.nodes[i]!.id).sort()).toEqual([ids.ask, ids.root].sort());
      expect(await taskOf(server, ids.ask!)).toEqual(finished);
      expect(finished).toMatchObject({ status: 'COMPLETED', error: null });
      expect(finished.toolCallRequests).toEqual([{ status: 'APPROVED' }]);
      expect((await taskOf(server, ids.root!)).status).toBe('COMPLETED');
    });
  });
});
