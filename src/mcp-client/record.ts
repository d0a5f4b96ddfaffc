import { ToolMessage } from '@langchain/core/messages';
import { ToolInvocationError, createMiddleware } from 'langchain';
import { stableId } from '../../graph/agent-work.repository.js';
import { recordToolCall } from '../../graph/tool-server.repository.js';
import { ToolCallStatus, type ToolCallRecord } from '../domain/tool-server.js';
import { TOPICS } from '../../subscriptions/topics.js';
import { awaitingInputOf } from '../engine/awaiting-input.js';
import type { StepContext } from '../engine/executor.js';
import type { AgentRuntime } from '../agents/runtime.js';
import { argsProblem, failureText, mcpErrorText } from './args.js';
import { withoutHeaderValues } from './secrets.js';
import type { McpToolRef } from './tools.js';

/** Argument names whose values never reach the graph or the logs. */
const SECRET_KEY = /pass|secret|token|key|auth|cookie|credential/i;
const MAX_ARGS_CHARS = 4_000;
const SUMMARY_CHARS = 500;

/** A call's arguments as recorded: values under secret-looking names replaced, clipped. */
export function redactArgs(args: unknown): string {
  const text = JSON.stringify(args ?? {}, (key, value: unknown) =>
    key && SECRET_KEY.test(key) ? '[redacted]' : value,
  );
  return text.length > MAX_ARGS_CHARS ? `${text.slice(0, MAX_ARGS_CHARS)}…` : text;
}

const textOf = (content: unknown) =>
  typeof content === 'string' ? content : JSON.stringify(content);

/**
 * What a failed call says, for the model and the record: its message, never a stack. LangChain
 * refuses arguments that do not fit the tool with its stack in the message and no detail, so
 * those get the argument and what the schema wants instead.
 */
function errorText(err: unknown, ref: McpToolRef, args: unknown): string {
  if (ToolInvocationError.isInstance(err)) {
    const schema = ref.server.tools.find((t) => t.name === ref.tool)?.inputSchema;
    const problem = schema ? argsProblem(schema, args) : null;
    return `the arguments do not fit the tool's input schema: ${problem ?? mcpErrorText(err.toolError.message)}`;
  }
  return failureText(err);
}

/**
 * Records every MCP tool call of a step as (:Run)-[:CALLED_TOOL]->(:ToolCall) when it ends
 * (toolCalls subscription), written at once (the world saw the call even if the attempt fails later), and cuts a result
 * longer than `resultMaxChars` before the model or the checkpoint sees it. A failed or timed
 * out call becomes an error the model reads, not a failed step; an abort of the step itself,
 * or a pause for a person, passes through.
 */
export function mcpCallRecorder(
  rt: AgentRuntime,
  step: StepContext,
  byName: ReadonlyMap<string, McpToolRef>,
  resultMaxChars: number,
) {
  return createMiddleware({
    name: 'McpToolCalls',
    wrapToolCall: async (request, handler) => {
      const ref = byName.get(request.toolCall.name);
      if (!ref) return handler(request);
      // Before any cut: half a secret is still one.
      const hide = (text: string) =>
        withoutHeaderValues(text, ref.server, { secretKey: rt.mcp?.cfg.secretKey ?? null });
      const callId = request.toolCall.id ?? '';
      const startedAt = new Date().toISOString();
      const t0 = performance.now();
      let message: ToolMessage;
      let status = ToolCallStatus.OK;
      let error: string | null = null;
      try {
        const out = await handler(request);
        if (!ToolMessage.isInstance(out)) return out; // a Command: nothing to cut or record
        message = out;
        if (out.status === 'error') {
          status = ToolCallStatus.ERROR;
          const said = hide(mcpErrorText(textOf(out.content)));
          error = said.slice(0, SUMMARY_CHARS);
          message = new ToolMessage({
            tool_call_id: out.tool_call_id,
            name: out.name,
            status: out.status,
            artifact: out.artifact,
            content: said,
          });
        }
      } catch (err) {
        const bubbles = (err as { is_bubble_up?: boolean })?.is_bubble_up === true;
        if (step.signal.aborted || awaitingInputOf(err) || bubbles) throw err;
        error = hide(errorText(err, ref, request.toolCall.args)).slice(0, SUMMARY_CHARS);
        status = /-32001|timed out|timeout|aborted/i.test(error)
          ? ToolCallStatus.TIMEOUT
          : ToolCallStatus.ERROR;
        message = new ToolMessage({
          tool_call_id: callId,
          name: request.toolCall.name,
          status: 'error',
          content: `The tool ${status === ToolCallStatus.TIMEOUT ? 'took too long' : 'failed'}: ${error}`,
        });
      }
      const text = textOf(message.content);
      const truncated = text.length > resultMaxChars;
      if (truncated) {
        message = new ToolMessage({
          tool_call_id: message.tool_call_id,
          name: message.name,
          status: message.status,
          artifact: message.artifact,
          content: `${text.slice(0, resultMaxChars)}\n[cut: the first ${resultMaxChars} of ${text.length} characters]`,
        });
      }
      await writeToolCall(rt, step, {
        serverId: ref.server.id,
        server: ref.server.name,
        tool: ref.tool,
        callId,
        args: request.toolCall.args,
        text,
        truncated,
        durationMs: Math.round(performance.now() - t0),
        status,
        error,
        startedAt,
      });
      return message;
    },
  });
}

/**
 * Writes one outside call of a step (an MCP tool, a remote A2A agent) as it ended:
 * (:Run)-[:CALLED_TOOL]->(:ToolCall), and the toolCalls event after the commit. Never throws:
 * a record that cannot be written is logged, and the call's outcome stands.
 */
export async function writeToolCall(
  rt: Pick<AgentRuntime, 'uow' | 'logger'>,
  step: StepContext,
  c: {
    serverId: string;
    server: string;
    tool: string;
    callId: string;
    args: unknown;
    /** The result as the model or the step gets it, before any cut. */
    text: string;
    truncated: boolean;
    durationMs: number;
    status: ToolCallStatus;
    error: string | null;
    startedAt: string;
  },
): Promise<void> {
  const { task, agent, run } = step;
  const toolCall: ToolCallRecord = {
    id: stableId(run.id, 'mcp-call', c.callId),
    tenantId: task.tenantId,
    runId: run.id,
    taskId: task.id,
    agentId: agent.id,
    serverId: c.serverId,
    server: c.server,
    tool: c.tool,
    callId: c.callId,
    args: redactArgs(c.args),
    resultSummary: c.status === ToolCallStatus.OK ? c.text.slice(0, SUMMARY_CHARS) : null,
    resultChars: c.text.length,
    truncated: c.truncated,
    durationMs: c.durationMs,
    status: c.status,
    error: c.error === null ? null : mcpErrorText(c.error),
    startedAt: c.startedAt,
  };
  await rt.uow
    .run(async (tx, emit) => {
      await recordToolCall(tx, toolCall);
      emit({ topic: TOPICS.toolCalled, payload: { tenantId: task.tenantId, toolCall } });
    })
    .catch((err: unknown) =>
      rt.logger.warn({ err, runId: run.id, callId: c.callId }, 'could not record an outside call'),
    );
}
