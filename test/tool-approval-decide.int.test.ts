import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideRequest, holdForInput, requestId } from '../graph/tool-approval.repository.js';
import { ToolCallRequestStatus } from '../src/domain/tool-approval.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Deciding a held tool call (issue 13) when the moment has passed: a step that no longer waits
 * (cancelled, completed) takes no decision, and of decisions made at once the losers are told
 * the decision that won, read under the step's lock (tool-approval.int.test.ts: the flow).
 */

type Answer = {
  data?: { resolveToolCall: { status: string } } | null;
  errors?: { message: string; extensions?: { code?: string; status?: string } }[];
};

const RESOLVE = `mutation($runId: ID!, $callId: String!, $decision: ToolCallDecision!, $args: String) {
  resolveToolCall(runId: $runId, callId: $callId, decision: $decision, args: $args) { status }
}`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** A task AWAITING_INPUT for one call (`call_1`), as a run that stopped for it leaves it. */
async function heldTask(): Promise<{ taskId: string; runId: string; callId: string }> {
  const made = await server.gql<{ createTask: { id: string } }, object>(
    `mutation { createTask(input: { title: "Note the tin price" }) { id } }`,
  );
  const taskId = made.data!.createTask.id;
  const runId = randomUUID();
  const callId = 'call_1';
  await server.graph.write(async (tx) => {
    await tx.run({
      cypher: `
        MATCH (t:Task {tenantId: $tenantId, id: $taskId})
        SET t.status = 'AWAITING_INPUT', t.waitingReason = 'a tool call waits for a person'
        CREATE (:Run {id: $runId, tenantId: $tenantId, status: 'INTERRUPTED', attempt: 1,
                      startedAt: datetime(), endedAt: datetime()})-[:OF]->(t)`,
      params: { tenantId: server.tenantId, taskId, runId },
    });
    await holdForInput(tx, {
      tenantId: server.tenantId,
      taskId,
      runId,
      calls: [{ callId, tool: 'report_progress', args: '{"note":"draft"}' }],
    });
  });
  return { taskId, runId, callId };
}

const requestOf = async (taskId: string) =>
  (
    await server.graph.read((tx) =>
      tx.run<{ status: string; decidedBy: string | null }>({
        cypher: `MATCH (q:ToolCallRequest)-[:FOR]->(:Task {tenantId: $tenantId, id: $taskId})
                 RETURN q.status AS status, q.decidedBy AS decidedBy`,
        params: { tenantId: server.tenantId, taskId },
      }),
    )
  )[0];

describe('deciding a held tool call', () => {
  it('refuses a decision on a call whose step was cancelled, and writes nothing', async () => {
    const { taskId, runId, callId } = await heldTask();
    const cancelled = await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, {
      id: taskId,
    } as never);
    expect(cancelled.errors).toBeUndefined();
    const answer = (await server.gql(RESOLVE, {
      runId,
      callId,
      decision: 'APPROVE',
    } as never)) as Answer;
    expect(answer.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(answer.errors?.[0]?.message).toContain('its step has ended (CANCELLED)');
    expect(await requestOf(taskId)).toEqual({ status: 'PENDING', decidedBy: null });
    const task = await server.gql(`query($id: ID!) { task(id: $id) { status } }`, {
      id: taskId,
    } as never);
    expect(task.data).toEqual({ task: { status: 'CANCELLED' } });
  });

  it('refuses a decision on a call whose step completed, and writes nothing', async () => {
    const { taskId, runId, callId } = await heldTask();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Task {tenantId: $tenantId, id: $taskId})
                 SET t.status = 'COMPLETED', t.waitingReason = null, t.result = 'done'`,
        params: { tenantId: server.tenantId, taskId },
      }),
    );
    const answer = (await server.gql(RESOLVE, {
      runId,
      callId,
      decision: 'REJECT',
    } as never)) as Answer;
    expect(answer.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(answer.errors?.[0]?.message).toContain('its step has ended (COMPLETED)');
    expect(await requestOf(taskId)).toEqual({ status: 'PENDING', decidedBy: null });
  });

  it('tells the decisions that lost a race the decision that won, not PENDING', async () => {
    const { taskId, runId, callId } = await heldTask();
    const id = requestId(taskId, callId);
    let answers: Promise<Answer[]> | undefined;
    // The winner holds the step's lock until it commits; three more decisions start meanwhile,
    // read the call as PENDING and wait for the lock.
    await server.graph.write(async (tx) => {
      const won = await decideRequest(tx, {
        tenantId: server.tenantId,
        id,
        status: ToolCallRequestStatus.APPROVED,
        editedArgs: null,
        reason: null,
        by: 'the winner',
      });
      expect(won?.request.status).toBe('APPROVED');
      answers = Promise.all(
        [
          { decision: 'EDIT', args: '{"note":"checked draft"}' },
          { decision: 'APPROVE' },
          { decision: 'REJECT' },
        ].map((d) => server.gql(RESOLVE, { runId, callId, ...d } as never) as Promise<Answer>),
      );
      await untilBlocked(
        server.graph,
        'the three decisions to wait for the step',
        {
          name: 'id',
          value: id,
        },
        3,
      );
    });
    for (const answer of await answers!) {
      expect(answer.errors?.[0]?.extensions).toMatchObject({
        code: 'CONFLICT',
        status: 'APPROVED',
      });
      expect(answer.errors?.[0]?.message).toContain(
        `Tool call ${callId} was already decided: APPROVED by the winner`,
      );
    }
    expect(await requestOf(taskId)).toEqual({ status: 'APPROVED', decidedBy: 'the winner' });
  });
});
