/**
 * Where episodes come from (issue 11): a step's result, a sent message, a chat turn. Each is
 * queued PENDING in the transaction of the thing it records, so it exists exactly when that
 * committed, and the ingestion queue picks it up later: nobody waits for memory.
 */
import type { Tx } from '../../../graph/cypher.js';
import {
  episodeRow,
  mergeEpisodes,
  type EpisodeRow,
  type NewEpisode,
} from '../../../graph/memory/episode.repository.js';
import { rootTaskOf } from '../../../graph/memory/ingest.repository.js';
import type { NewMessage } from '../../../graph/message.repository.js';
import { EpisodeKind, MemoryScope } from '../../domain/memory.js';
import type { Task } from '../../domain/task.js';
import { outputOf } from '../../engine/executor.js';
import { capabilitiesByAgentIds } from '../../../graph/capability.repository.js';
import { joinStructured, numbersAsFacts, stepFacts } from './structured.js';

/**
 * A completed step's result as a RUN_RESULT episode (scope TASK: its root task), FROM_RUN its
 * run and BY its agent. Structured facts go with it, written with no model call: numbers in a
 * JSON result, the task's priority and agent, the agent's capabilities. Null for an empty
 * result. The statement that ends the run makes it (graph/run.repository.ts: endRun's
 * `episode`): it exists exactly when the run ended so, and costs the end no statement of its own.
 */
export async function runResultEpisode(
  tx: Tx,
  step: {
    task: Task;
    agent: { id: string; name: string } | null;
    runId: string;
    /** Known already (the engine read them with its claim): not read again. */
    rootId?: string;
    capabilities?: { name: string; proficiency: number }[];
  },
  result: string,
): Promise<EpisodeRow | null> {
  const { task } = step;
  if (!result.trim()) return null;
  const root = step.rootId ?? (await rootTaskOf(tx, task.tenantId, task.id));
  const summary = task.description ?? task.title;
  const subject = { name: task.title, type: 'Task', summary };
  const capabilities = !step.agent
    ? []
    : (step.capabilities ?? (await capabilitiesByAgentIds(tx, task.tenantId, [step.agent.id])));
  const known = stepFacts(
    { name: task.title, summary, priority: task.priority },
    step.agent && { name: step.agent.name, capabilities },
  );
  return episodeRow(task.tenantId, {
    kind: EpisodeKind.RUN_RESULT,
    sourceKey: `run:${step.runId}`,
    source: `result of step "${task.title}"`,
    content: result,
    occurredAt: null,
    scope: MemoryScope.TASK,
    scopeId: root,
    runId: step.runId,
    agentId: step.agent?.id ?? null,
    structured: joinStructured(numbersAsFacts(outputOf(result), subject), known),
  });
}

/**
 * Sent messages as MESSAGE episodes: scope TASK (the root of the task it is about) when it is
 * about one, else TENANT; BY its sending agent.
 */
export async function queueMessages(
  tx: Tx,
  tenantId: string,
  messages: readonly NewMessage[],
): Promise<void> {
  const episodes: NewEpisode[] = [];
  for (const m of messages) {
    if (!m.content.trim()) continue;
    const root = m.aboutTaskId ? await rootTaskOf(tx, tenantId, m.aboutTaskId) : null;
    episodes.push({
      kind: EpisodeKind.MESSAGE,
      sourceKey: `message:${m.id}`,
      source: `${m.kind.toLowerCase()} message from ${m.senderUser ?? 'an agent'}`,
      content: m.content,
      occurredAt: null,
      scope: root ? MemoryScope.TASK : MemoryScope.TENANT,
      scopeId: root,
      messageId: m.id,
      agentId: m.fromAgentId,
    });
  }
  if (episodes.length > 0) await mergeEpisodes(tx, tenantId, episodes);
}

/** A chat turn (the person's message and the agent's reply) as a CHAT_TURN episode, scope AGENT. */
export async function queueChatTurn(
  tx: Tx,
  tenantId: string,
  turn: {
    agentId: string;
    agentName: string;
    person: string;
    question: string;
    replyId: string;
    reply: string;
  },
): Promise<void> {
  await mergeEpisodes(tx, tenantId, [
    {
      kind: EpisodeKind.CHAT_TURN,
      sourceKey: `chat:${turn.replyId}`,
      source: `chat between ${turn.person} and ${turn.agentName}`,
      content: `${turn.person}: ${turn.question}\n${turn.agentName}: ${turn.reply}`,
      occurredAt: null,
      scope: MemoryScope.AGENT,
      scopeId: turn.agentId,
      messageId: turn.replyId,
      agentId: turn.agentId,
    },
  ]);
}
