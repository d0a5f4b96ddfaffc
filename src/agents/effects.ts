import type { BaseMessage } from '@langchain/core/messages';
import * as work from '../../graph/agent-work.repository.js';
import type { StepContext } from '../engine/executor.js';
import type { StepWrite } from '../engine/pending-writes.js';
import type { MemoryRef } from '../domain/memory-search.js';
import { appliedWrite } from '../memory/retrieval/agent-memory.js';
import { sendAgentMessage } from './messages.js';

/**
 * What a tool call leaves in the graph, as data (issue 13). A tool queues its effects on the
 * step's pending writes and returns them as its ToolMessage's artifact, so they are saved in the
 * agent loop's checkpoints with the call's result. A retried step that resumes from a checkpoint
 * does not run the calls before it again; their effects, lost with the attempt that ran them,
 * are queued again from the artifacts (requeueEffects). Every effect is a MERGE on an id fixed
 * when the call ran, so queueing it twice writes nothing twice.
 */
export type ToolEffect =
  /** Memory the model read, recorded as used by the run that read it (APPLIED_IN). */
  | { kind: 'applied'; runId: string; items: MemoryRef[] }
  | { kind: 'knowledge'; knowledge: work.KnowledgeDraft }
  | { kind: 'messages'; messages: work.MessageDraft[] };

/** The artifact of a tool call with effects. */
export interface EffectsArtifact {
  effects: ToolEffect[];
}

function writeOf(tenantId: string, effect: ToolEffect): StepWrite {
  switch (effect.kind) {
    case 'applied':
      return appliedWrite(tenantId, effect.runId, effect.items);
    case 'knowledge':
      return async (tx) => {
        await work.writeKnowledge(tx, effect.knowledge);
      };
    case 'messages':
      return async (tx, emit) => {
        for (const m of effect.messages) await sendAgentMessage(tx, emit, m);
      };
  }
}

/** Queues a tool call's effects on the step's writes; returns the artifact to save with it. */
export function queueEffects(
  step: StepContext,
  label: string,
  effects: ToolEffect[],
): EffectsArtifact {
  for (const e of effects) step.writes.add(label, writeOf(step.task.tenantId, e));
  return { effects };
}

/**
 * Queues again the effects of the tool calls in `messages` that this attempt did not run (they
 * ran in an earlier attempt, before the checkpoint this one resumed from); returns how many
 * calls that was.
 */
export function requeueEffects(
  step: StepContext,
  messages: readonly BaseMessage[],
  ranHere: ReadonlySet<string>,
): number {
  let calls = 0;
  for (const m of messages) {
    if (m.getType() !== 'tool') continue;
    const {
      tool_call_id: callId,
      artifact,
      name,
    } = m as BaseMessage & {
      tool_call_id: string;
      artifact?: Partial<EffectsArtifact>;
    };
    if (ranHere.has(callId) || !Array.isArray(artifact?.effects)) continue;
    queueEffects(step, `${name ?? 'tool'} (resumed)`, artifact.effects);
    calls++;
  }
  return calls;
}
