import { HumanMessage } from '@langchain/core/messages';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type { createAgent } from 'langchain';
import { StepError } from '../../engine/executor.js';

type Agent = ReturnType<typeof createAgent>;

/** The loop's model node: a fork may add a person's message only where the model runs next. */
export const MODEL_NODE = 'model_request';
/** The node that runs the model's tool calls; a fork's message is written as if by it. */
export const TOOLS_NODE = 'tools';
/** What a run's first checkpoint runs next: the loop has not read its input yet. */
export const START_NODE = '__start__';
/** The tool-approval gate's name (src/agents/approval.ts). */
export const APPROVAL_GATE = 'ToolApproval';
/** What a run held for a tool call's approval runs next: the gate, after the model's answer. */
export const APPROVAL_NODE = `${APPROVAL_GATE}.after_model`;

/**
 * Starts a fork's thread (issue 13) from a copy of the checkpoint it was forked from, with the
 * person's message added after it as if a tool step had just ended (so the model runs next and
 * reads it). Once per thread: a retried fork finds its thread started and resumes it instead.
 * Throws a permanent StepError when the source checkpoint is gone.
 */
export async function seedFork(
  agent: Agent,
  saver: BaseCheckpointSaver,
  source: { threadId: string; ns: string; checkpointId: string; message: string | null },
  threadId: string,
): Promise<boolean> {
  if (await saver.getTuple({ configurable: { thread_id: threadId } })) return false;
  const from = await saver.getTuple({
    configurable: {
      thread_id: source.threadId,
      checkpoint_ns: source.ns,
      checkpoint_id: source.checkpointId,
    },
  });
  if (!from) {
    throw new StepError(
      'the checkpoint this fork starts from no longer exists (its thread was deleted); fork from another checkpoint',
      false,
    );
  }
  const config = await saver.put(
    { configurable: { thread_id: threadId, checkpoint_ns: source.ns } },
    from.checkpoint,
    { step: 0, parents: {}, ...from.metadata, source: 'fork' },
    from.checkpoint.channel_versions,
  );
  if (source.message) {
    await agent.graph.updateState(
      config,
      { messages: [new HumanMessage(source.message)] },
      TOOLS_NODE,
    );
  }
  return true;
}
