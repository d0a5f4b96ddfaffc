import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { BaseMessage } from '@langchain/core/messages';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type { createAgent } from 'langchain';
import { isTransient, StepError } from '../../engine/executor.js';

type Agent = ReturnType<typeof createAgent>;

/** Counts the tool calls a loop runs, for the error when it reaches its limit. */
class ToolRuns extends BaseCallbackHandler {
  name = 'tool-runs';
  // Counted before the loop goes on, so the number is exact when the limit stops it.
  override awaitHandlers = true;
  count = 0;
  override handleToolStart(): void {
    this.count++;
  }
}

/** How an agent loop started: fresh, resumed mid-loop, or found finished by an earlier attempt. */
export type LoopStart = 'FRESH' | 'RESUMED' | 'FINISHED';

/**
 * Runs a step's agent loop on its thread (issue 13). With a checkpointer, a thread that already
 * has checkpoints (an earlier attempt of the step crashed, lost its lease or failed) is not
 * started again: a loop that stopped midway resumes from its last checkpoint (the model and tool
 * calls before it are not repeated), and one that had finished gives its final messages without
 * any call. Without a checkpointer, or on a thread with no checkpoint, it runs from `input`.
 */
export async function runAgentLoop(
  agent: Agent,
  checkpointer: BaseCheckpointSaver | undefined,
  input: { messages: BaseMessage[] },
  config: { signal: AbortSignal; recursionLimit: number; threadId: string },
): Promise<{ messages: BaseMessage[]; start: LoopStart }> {
  const tools = new ToolRuns();
  const run = {
    signal: config.signal,
    recursionLimit: config.recursionLimit,
    callbacks: [tools],
    configurable: { thread_id: config.threadId },
    // Each checkpoint commits before the loop goes on: with 'async', a step's pending writes
    // could reach Neo4j before the checkpoint they belong to, and a failed invoke could return
    // while its last checkpoint was still being written.
    durability: 'sync' as const,
  };
  if (checkpointer) {
    const saved = await agent.graph.getState(run);
    const messages = (saved.values as { messages?: BaseMessage[] } | undefined)?.messages ?? [];
    if (messages.length > 0 && saved.next.length === 0) return { messages, start: 'FINISHED' };
    if (messages.length > 0) {
      const state = await agent.invoke(null as never, run).catch(atLimit(tools, config));
      return { messages: state.messages, start: 'RESUMED' };
    }
  }
  const state = await agent.invoke(input, run).catch(atLimit(tools, config));
  return { messages: state.messages, start: 'FRESH' };
}

/**
 * LangGraph's "Recursion limit of 12 reached … set recursionLimit" told a person to set what
 * only the code sets: the step fails saying what the agent did, retried or not as before.
 */
const atLimit =
  (tools: ToolRuns, config: { recursionLimit: number }) =>
  (err: unknown): never => {
    if ((err as Error)?.name !== 'GraphRecursionError') throw err;
    const message =
      `the agent made ${tools.count} tool calls without giving an answer, and its loop was ` +
      `stopped at its limit of ${config.recursionLimit} steps (model calls and rounds of tool calls)`;
    throw Object.assign(new StepError(message, isTransient(err)), { cause: err });
  };
