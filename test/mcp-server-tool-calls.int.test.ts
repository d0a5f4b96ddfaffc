import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { startOfflineAgents } from './utils/engine.js';
import { call, connect, text } from './utils/mcp-client.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 16, part 2: an assistant decides over MCP the tool calls a step's agent holds for a
// person (issue 13), as resolveToolCall does in GraphQL.

/** How long the offline agents may take for a whole workflow on a loaded machine. */
const WORKFLOW_MS = 90_000;

interface Held {
  callId: string;
  tool: string;
  args: string;
}
interface WorkflowOut {
  taskId: string;
  status: string;
  finished: boolean;
  steps: { id: string; status: string; heldToolCalls: Held[] }[];
}

describe('held tool calls, decided over MCP', { timeout: 3 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let admin: Client;
  let stopAgents: () => Promise<void>;

  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation {
      createAgents(inputs: [
        { name: "Chief", role: CHIEF_OF_STAFF },
        { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
      ]) { id }
      setToolPolicy(input: { tool: "search_knowledge", mode: ALWAYS }) { tool }
    }`);
    expect(res.errors).toBeUndefined();
    const scheduler = startOfflineAgents(server, { stepTimeoutMs: 60_000 });
    stopAgents = () => scheduler.stop();
    admin = await connect(server, server.adminKey);
  });
  afterAll(async () => {
    await admin?.close();
    await stopAgents?.();
    await server?.stop();
  });

  const status = async (taskId: string) =>
    (await call(admin, 'task_status', { taskId })).structuredContent as unknown as WorkflowOut;

  it('lists the calls a step holds, approves one, rejects the next with a reason, and the task completes', async () => {
    const submitted = await call(admin, 'submit_task', { title: 'Summarise the brief' });
    expect(submitted.isError, text(submitted)).toBeFalsy();
    const taskId = (submitted.structuredContent as unknown as WorkflowOut).taskId;

    const viewer = await connect(server, await server.keyFor(Role.VIEWER));
    const decided: { step: string; callId: string; decision: string }[] = [];
    /** Decides every call held now: the first approved, the others rejected. */
    const decideHeld = async (now: WorkflowOut) => {
      for (const step of now.steps) {
        for (const held of step.heldToolCalls) {
          expect(held.tool).toBe('search_knowledge');
          expect(() => JSON.parse(held.args) as unknown).not.toThrow();
          const approve = decided.length === 0;
          if (approve) {
            // A VIEWER may read what waits, not decide it.
            const refused = await call(viewer, 'approve', {
              taskId: step.id,
              what: 'TOOL_CALL',
              callId: held.callId,
            });
            expect(refused.isError).toBe(true);
            expect(text(refused)).toMatch(/^FORBIDDEN: /);
            // A blank comment is no comment (as for a step), not a blank reason refused: what
            // is refused here is the arguments, and the call still waits.
            const unfit = await call(admin, 'approve', {
              taskId: step.id,
              what: 'TOOL_CALL',
              callId: held.callId,
              args: 'not JSON',
              comment: ' ',
            });
            expect(unfit.isError).toBe(true);
            expect(text(unfit)).toMatch(/^BAD_USER_INPUT: args /);
            // Empty args are unfit args, not an APPROVE that GraphQL refuses for its args.
            const empty = await call(admin, 'approve', {
              taskId: step.id,
              what: 'TOOL_CALL',
              callId: held.callId,
              args: '',
            });
            expect(text(empty)).toMatch(/^BAD_USER_INPUT: args must be a JSON object/);
            // A callId without what: TOOL_CALL says so, not that the step is not a STEP's.
            for (const name of ['approve', 'reject']) {
              const stepWise = await call(admin, name, {
                taskId: step.id,
                callId: held.callId,
                reason: 'no',
              });
              expect(text(stepWise)).toMatch(/^BAD_USER_INPUT: callId .*what: TOOL_CALL/);
            }
            // reject's reason is required here: a blank one is not told to be left out.
            const blank = await call(admin, 'reject', {
              taskId: step.id,
              what: 'TOOL_CALL',
              callId: held.callId,
              reason: '  ',
            });
            expect(blank.isError).toBe(true);
            expect(text(blank)).toMatch(/reason/);
            expect(text(blank)).not.toMatch(/leave reason out/);
          }
          const res = approve
            ? await call(admin, 'approve', {
                taskId: step.id,
                what: 'TOOL_CALL',
                callId: held.callId,
                comment: 'Checked against the brief',
              })
            : await call(admin, 'reject', {
                taskId: step.id,
                what: 'TOOL_CALL',
                callId: held.callId,
                reason: 'Use what the brief says',
              });
          expect(res.isError, text(res)).toBeFalsy();
          expect(res.structuredContent).toMatchObject({
            id: step.id,
            toolCall: { callId: held.callId, status: approve ? 'APPROVED' : 'REJECTED' },
          });
          decided.push({
            step: step.id,
            callId: held.callId,
            decision: approve ? 'APPROVED' : 'REJECTED',
          });
        }
      }
    };
    try {
      await untilDone({
        read: async () => {
          const now = await status(taskId);
          await decideHeld(now);
          return now;
        },
        done: (now) => now.finished,
        progress: (now) =>
          `${now.status} ${now.steps.map((s) => `${s.status}/${s.heldToolCalls.length}`).join()}`,
        stallMs: 60_000,
        everyMs: 500,
        what: 'the task did not end with its held calls decided',
      });
    } finally {
      await viewer.close();
    }
    expect((await status(taskId)).status).toBe('COMPLETED');
    expect(decided.length).toBeGreaterThanOrEqual(2);

    // In the graph, as GraphQL shows it: each call decided as asked, by the admin's key.
    for (const d of decided) {
      const res = await server.gql<
        { task: { toolCallRequests: { callId: string; status: string; reason: string | null }[] } },
        object
      >(`query($id: ID!) { task(id: $id) { toolCallRequests { callId status reason } } }`, {
        id: d.step,
      });
      const request = res.data!.task.toolCallRequests.find((r) => r.callId === d.callId);
      expect(request).toMatchObject({ status: d.decision });
      // The agent reads a rejection's reason; an approval's comment is kept as its note.
      expect(request!.reason).toBe(
        d.decision === 'REJECTED' ? 'Use what the brief says' : 'Checked against the brief',
      );
    }

    // A decided call is CONFLICT naming the decision that stands, as in GraphQL.
    for (const name of ['approve', 'reject']) {
      const again = await call(admin, name, {
        taskId: decided[0]!.step,
        what: 'TOOL_CALL',
        callId: decided[0]!.callId,
        reason: 'twice',
      });
      expect(again.isError).toBe(true);
      expect(text(again)).toMatch(/^CONFLICT: .*already decided: APPROVED by /);
    }
    // One the step never held is NOT_FOUND, saying where to look.
    const never = await call(admin, 'approve', {
      taskId: decided[0]!.step,
      what: 'TOOL_CALL',
      callId: 'call_never_made',
    });
    expect(text(never)).toMatch(/^NOT_FOUND: .*heldToolCalls/);
    const noCall = await call(admin, 'reject', {
      taskId: decided[0]!.step,
      what: 'TOOL_CALL',
      reason: 'no',
    });
    expect(text(noCall)).toBe('BAD_USER_INPUT: what: TOOL_CALL needs callId');
  });

  it('lists no held call of a step that has ended: it can no longer be decided', async () => {
    const submitted = await call(admin, 'submit_task', { title: 'Summarise the memo' });
    const taskId = (submitted.structuredContent as unknown as WorkflowOut).taskId;
    await untilDone({
      read: () => status(taskId),
      done: (now) => now.steps.some((s) => s.heldToolCalls.length > 0),
      progress: (now) => now.steps.map((s) => s.status).join(),
      stallMs: 60_000,
      everyMs: 250,
      what: 'a step to hold a call',
    });
    const cancelled = await server.gql(`mutation { cancelTask(id: "${taskId}") { id } }`);
    expect(cancelled.errors).toBeUndefined();
    const now = await status(taskId);
    expect(now.steps.filter((s) => s.status === 'CANCELLED').length).toBeGreaterThan(0);
    expect(now.steps.flatMap((s) => s.heldToolCalls)).toEqual([]);
  });
});
