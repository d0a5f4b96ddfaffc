import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { createMiddleware } from 'langchain';
import { requestsOfCalls, toolPolicies } from '../../graph/tool-approval.repository.js';
import { ToolCallRequestStatus, needsApproval } from '../domain/tool-approval.js';
import { StepError, type StepContext } from '../engine/executor.js';
import { AwaitingInputError } from '../engine/awaiting-input.js';
import type { AgentRuntime } from './runtime.js';
import { APPROVAL_GATE } from './checkpoint/fork.js';

const REJECTED = (reason: string | null) =>
  `A person rejected this call${reason ? `: ${reason}` : ''}. Do not make it again; carry on without it, or answer.`;

/**
 * The approval gate of a step's loop: after each model answer, the calls of tools whose policy
 * holds them for this agent and task are looked up by their call id. Undecided ones stop the
 * loop (AwaitingInputError) right after the checkpoint that saved the answer; decided ones are
 * applied each to its own call: APPROVED runs, EDITED runs with the person's arguments,
 * REJECTED does not run and the model reads why. Matching by call id, never by position, is
 * what keeps parallel calls apart (LangGraph's langgraph#6533 and #6626 resumed the wrong one).
 * Null when no policy holds any tool for this step and no tool is held by default. Without a checkpointer (`canHold` false) a
 * held call fails the step: running it unapproved is not an option.
 */
export async function approvalGate(
  rt: AgentRuntime,
  step: StepContext,
  canHold: boolean,
  /** Tools held unless a policy of their own says otherwise (destructive MCP tools, issue 16). */
  heldByDefault: ReadonlySet<string> = new Set(),
) {
  const { task, agent } = step;
  const policies = await rt.uow.read((tx) => toolPolicies(tx, task.tenantId));
  const ruled = new Set(policies.map((p) => p.tool));
  const held = new Set([
    ...policies.filter((p) => needsApproval(p, agent.role, task.priority)).map((p) => p.tool),
    ...[...heldByDefault].filter((tool) => !ruled.has(tool)),
  ]);
  if (held.size === 0) return null;
  return createMiddleware({
    name: APPROVAL_GATE,
    afterModel: {
      canJumpTo: ['model'],
      hook: async (state: { messages: BaseMessage[] }) => {
        const last = state.messages.at(-1);
        if (!last || !AIMessage.isInstance(last) || !last.tool_calls?.length) return undefined;
        const answered = new Set(
          state.messages.filter(ToolMessage.isInstance).map((m) => m.tool_call_id),
        );
        const asked = last.tool_calls.filter(
          (c) => c.id && held.has(c.name) && !answered.has(c.id),
        );
        if (asked.length === 0) return undefined;
        const ids = asked.map((c) => c.id!);
        const decided = await rt.uow.read((tx) => requestsOfCalls(tx, task.tenantId, task.id, ids));
        const waiting = asked.filter(
          (c) => (decided.get(c.id!)?.status ?? ToolCallRequestStatus.PENDING) === 'PENDING',
        );
        if (waiting.length > 0 && !canHold) {
          // Without checkpoints the decision could not be applied to this very call later.
          throw new StepError(
            `${waiting[0]!.name} needs a person's approval, but agent loops are not checkpointed here, so the call could not wait; turn checkpoints on or change the tool's policy (setToolPolicy)`,
            false,
          );
        }
        if (waiting.length > 0) {
          throw new AwaitingInputError(
            waiting.map((c) => ({ callId: c.id!, tool: c.name, args: JSON.stringify(c.args) })),
          );
        }
        const rejected = asked.filter((c) => decided.get(c.id!)!.status === 'REJECTED');
        const edited = asked.filter((c) => decided.get(c.id!)!.status === 'EDITED');
        if (rejected.length === 0 && edited.length === 0) return undefined;
        const calls = last.tool_calls.map((c) => {
          const d = decided.get(c.id ?? '');
          return d?.status === 'EDITED' ? { ...c, args: JSON.parse(d.editedArgs ?? '{}') } : c;
        });
        const revised = new AIMessage({
          id: last.id,
          content: last.content,
          tool_calls: calls,
          response_metadata: last.response_metadata,
          usage_metadata: last.usage_metadata,
        });
        const refusals = rejected.map(
          (c) =>
            new ToolMessage({
              tool_call_id: c.id!,
              name: c.name,
              status: 'error',
              content: REJECTED(decided.get(c.id!)!.reason),
            }),
        );
        // With every call answered, the loop goes back to the model (it would end otherwise).
        const stillToRun = calls.some(
          (c) => !answered.has(c.id ?? '') && !rejected.some((r) => r.id === c.id),
        );
        return {
          messages: [revised, ...refusals],
          ...(stillToRun ? {} : { jumpTo: 'model' as const }),
        };
      },
    },
  });
}
