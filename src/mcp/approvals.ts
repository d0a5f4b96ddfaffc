import { z } from 'zod';
import { LIMITS } from '../domain/validate.js';
import { DOCUMENTS, OperationError } from './operations.js';
import { STATUS, type DefineTool, type Structured, type ToolContext } from './define-tool.js';

/** What an approval is about: a step, a held plan, or a tool call a step's agent stopped for. */
const WHAT = z
  .enum(['STEP', 'PLAN', 'TOOL_CALL'])
  .optional()
  .describe(
    'STEP (the default): a step AWAITING_APPROVAL; PLAN: the plan of a task held for approval; TOOL_CALL: a call a step AWAITING_INPUT holds (callId from task_status heldToolCalls)',
  );
const CALL_ID = z
  .string()
  .min(1)
  .optional()
  .describe("TOOL_CALL: the held call's callId (task_status lists a step's heldToolCalls)");

/**
 * approve and reject: what waits for a person, as GraphQL's approveTask/rejectTask,
 * approvePlan/rejectPlan and resolveToolCall decide it, with the same roles and checks.
 */
export function registerApprovalTools(tool: DefineTool, ctx: ToolContext): void {
  /**
   * The run of the step's call `callId` (its PENDING request first), or NOT_FOUND saying what
   * to do. A decided one is returned too, so resolveToolCall answers CONFLICT naming the
   * decision that stands, as GraphQL does.
   */
  async function heldCall(taskId: string, callId: string | undefined): Promise<string> {
    if (!callId) throw new OperationError('BAD_USER_INPUT', 'what: TOOL_CALL needs callId');
    const { task } = await ctx.run<{
      task: { toolCallRequests: { runId: string; callId: string; status: string }[] } | null;
    }>(DOCUMENTS.heldToolCalls, { id: taskId });
    const made = task?.toolCallRequests.filter((r) => r.callId === callId) ?? [];
    const held = made.find((r) => r.status === 'PENDING') ?? made[0];
    if (!held)
      throw new OperationError(
        'NOT_FOUND',
        `step "${taskId}" holds no tool call "${callId}"; task_status lists its heldToolCalls`,
      );
    return held.runId;
  }

  /** callId and args decide a held call: with a step or plan they are a forgotten `what`. */
  function onlyForCalls(what: string | undefined, given: { callId?: string; args?: string }) {
    const stray = (['callId', 'args'] as const).filter((k) => given[k] !== undefined);
    if (what === 'TOOL_CALL' || stray.length === 0) return;
    const names = stray.join(' and ');
    throw new OperationError(
      'BAD_USER_INPUT',
      `${names} go with what: TOOL_CALL, but what is ${what ?? 'STEP (the default)'}: ` +
        `add what: TOOL_CALL to decide a held call, or leave ${names} out`,
    );
  }

  async function decideCall(
    taskId: string,
    callId: string | undefined,
    decision: 'APPROVE' | 'EDIT' | 'REJECT',
    args: string | null,
    reason: string | null,
  ): Promise<Structured> {
    const runId = await heldCall(taskId, callId);
    const { resolveToolCall } = await ctx.run<{
      resolveToolCall: { callId: string; status: string };
    }>(DOCUMENTS.resolveToolCall, { runId, callId, decision, args, reason });
    const { task } = await ctx.run<{ task: Structured }>(DOCUMENTS.taskResult, { id: taskId });
    return { id: taskId, status: task.status, toolCall: resolveToolCall };
  }

  const decision = {
    id: z.string(),
    status: STATUS,
    toolCall: z
      .object({ callId: z.string(), status: z.string() })
      .optional()
      .describe('TOOL_CALL: the call as decided (APPROVED, EDITED or REJECTED)'),
  };
  tool(
    'approve',
    {
      title: 'Approve',
      description:
        'Approves what waits for a person: a step AWAITING_APPROVAL (what: STEP, the default), the plan of a submitted task held for approval (what: PLAN), whose steps then run, or a tool call a step AWAITING_INPUT holds (what: TOOL_CALL, with callId; args runs it with other arguments).',
      input: {
        taskId: z
          .string()
          .min(1)
          .describe('The step (STEP, TOOL_CALL) or the submitted task (PLAN)'),
        what: WHAT,
        callId: CALL_ID,
        args: z
          .string()
          .max(100_000)
          .optional()
          .describe('TOOL_CALL: run the call with these arguments instead (a JSON object)'),
        comment: z
          .string()
          .max(LIMITS.reason)
          .optional()
          .describe('Recorded with the decision (STEP, TOOL_CALL); a blank one is none'),
      },
      output: decision,
      readOnly: false,
    },
    async ({ taskId, what, callId, args, comment: typed }) => {
      onlyForCalls(what, { callId, args });
      const comment = typed?.trim() || null;
      if (what === 'TOOL_CALL') {
        const decided = await decideCall(
          taskId,
          callId,
          // Empty args are args GraphQL refuses as such, not an APPROVE refused for having them.
          args !== undefined ? 'EDIT' : 'APPROVE',
          args ?? null,
          comment,
        );
        return { value: decided, ids: [taskId] };
      }
      const data =
        what === 'PLAN'
          ? (await ctx.run<{ approvePlan: Structured }>(DOCUMENTS.approvePlan, { taskId }))
              .approvePlan
          : (
              await ctx.run<{ approveTask: Structured }>(DOCUMENTS.approveTask, {
                id: taskId,
                comment,
              })
            ).approveTask;
      return { value: data, ids: [taskId] };
    },
  );

  tool(
    'reject',
    {
      title: 'Reject',
      description:
        "Rejects what waits for a person: a step AWAITING_APPROVAL is skipped (what: STEP), a held plan is cancelled and planned again with the reason as feedback (what: PLAN), or a held tool call is not run and the step's agent is told the reason (what: TOOL_CALL, with callId).",
      input: {
        taskId: z
          .string()
          .min(1)
          .describe('The step (STEP, TOOL_CALL) or the submitted task (PLAN)'),
        what: WHAT,
        callId: CALL_ID,
        // Required here, though optional in GraphQL for STEP and TOOL_CALL: a reason helps.
        // Trimmed first, so a blank one is refused as missing, not told to be left out.
        reason: z.string().trim().min(1).max(LIMITS.reason),
      },
      output: decision,
      readOnly: false,
      destructive: true,
    },
    async ({ taskId, what, callId, reason }) => {
      onlyForCalls(what, { callId });
      if (what === 'TOOL_CALL') {
        return { value: await decideCall(taskId, callId, 'REJECT', null, reason), ids: [taskId] };
      }
      const data =
        what === 'PLAN'
          ? (await ctx.run<{ rejectPlan: Structured }>(DOCUMENTS.rejectPlan, { taskId, reason }))
              .rejectPlan
          : (
              await ctx.run<{ rejectTask: Structured }>(DOCUMENTS.rejectTask, {
                id: taskId,
                reason,
              })
            ).rejectTask;
      return { value: data, ids: [taskId] };
    },
  );
}
