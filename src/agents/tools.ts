import { tool } from '@langchain/core/tools';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import * as work from '../../graph/agent-work.repository.js';
import { agentsByIds } from '../../graph/agent.repository.js';
import { candidateAgents } from '../../graph/claim.repository.js';
import { searchKnowledge } from '../../graph/knowledge.repository.js';
import { withoutManaged } from '../evolution/lessons/retrieve.js';
import { luceneQuery } from '../../graph/fulltext.js';
import { KnowledgeKind } from '../domain/knowledge.js';
import type { StepContext } from '../engine/executor.js';
import { queueEffects, type EffectsArtifact, type ToolEffect } from './effects.js';
import type { AgentRuntime } from './runtime.js';
import { systemPrompt } from './prompts.js';
import { memoryLine, refOf, searchAsAgent } from '../memory/retrieval/agent-memory.js';

/**
 * The arguments of each built-in tool: what the model is offered, and what a person's edit of a
 * held call (resolveToolCall with EDIT) is checked against.
 */
export const TOOL_ARGS = {
  search_knowledge: z.object({ query: z.string().describe('Words to search for') }),
  search_memory: z.object({ query: z.string().describe('What to recall, in a few words') }),
  record_knowledge: z.object({
    content: z.string(),
    // Nullish: strict models send null for an argument they leave out.
    kind: z.enum([KnowledgeKind.FACT, KnowledgeKind.LESSON, KnowledgeKind.SKILL]).nullish(),
    tags: z.array(z.string()).nullish(),
  }),
  read_dependency_outputs: z.object({}),
  ask_agent: z.object({
    capability: z.string().describe('The capability the answer needs'),
    question: z.string(),
  }),
  report_progress: z.object({ note: z.string() }),
};

/**
 * A Master Operator's tools for one step. What they write is queued on the step's writes and
 * commits with its outcome (an aborted attempt leaves nothing), MERGEd on ids derived from the
 * step, so running the step again writes nothing twice. Reads do not see the step's own
 * queued writes. Each returns its effects as its ToolMessage's artifact (effects.ts), so a
 * step resumed from a checkpoint can queue again those of the calls it does not repeat.
 */
export function operatorTools(
  rt: AgentRuntime,
  step: StepContext,
  conversationId: string,
  chiefId: string | null,
  /** The task the step belongs to: its TASK-scoped memories are the step's too. */
  rootId: string | null = null,
  /** Collects the ids of the tool calls this attempt runs (see effects.ts). */
  ranHere?: Set<string>,
) {
  const { task, agent, run } = step;
  const tenantId = task.tenantId;

  // Ids of the calls this attempt ran (the others in a resumed loop ran in an earlier one).
  const ran = (config: { toolCall?: { id?: string } } | undefined) => {
    if (config?.toolCall?.id) ranHere?.add(config.toolCall.id);
  };
  const withEffects = (content: string, label: string, effects: ToolEffect[]) =>
    [content, queueEffects(step, label, effects)] as [string, EffectsArtifact];
  const NO_EFFECTS: EffectsArtifact = { effects: [] };

  const searchKnowledgeTool = tool(
    async ({ query }, config) => {
      ran(config);
      if (!luceneQuery(query)) return ['Nothing to search for.', NO_EFFECTS];
      // Lessons and skills with a lifecycle reach prompts only through their own retrieval.
      const hits = withoutManaged(
        await rt.uow.read((tx) => searchKnowledge(tx, tenantId, query, 5)),
      );
      if (hits.length === 0) return ['The organisation knows nothing about that yet.', NO_EFFECTS];
      const items = hits.map((h) => ({ label: 'Knowledge' as const, id: h.knowledge.id }));
      const text = hits
        .map(
          (h) =>
            `- (${h.knowledge.kind}, confidence ${h.knowledge.confidence}) ${h.knowledge.content}`,
        )
        .join('\n');
      return withEffects(text, 'search_knowledge applied', [
        { kind: 'applied', runId: run.id, items },
      ]);
    },
    {
      responseFormat: 'content_and_artifact',
      name: 'search_knowledge',
      description:
        'Search what the organisation already knows: facts, lessons, summaries, skills. What you record in this step is not searchable until the step ends.',
      schema: TOOL_ARGS.search_knowledge,
    },
  );

  const searchMemoryTool = tool(
    async ({ query }, config) => {
      ran(config);
      const hits = await searchAsAgent(
        rt,
        { tenantId, agentId: agent.id, taskIds: rootId ? [task.id, rootId] : [task.id] },
        query,
        { first: 5, signal: step.signal },
      );
      if (hits.length === 0) return ['Memory holds nothing about that yet.', NO_EFFECTS];
      // What the model reads is recorded as used by this run, with the step's outcome.
      return withEffects(
        hits.map((h) => `- ${memoryLine(h)}`).join('\n'),
        'search_memory applied',
        [{ kind: 'applied', runId: run.id, items: hits.map(refOf) }],
      );
    },
    {
      responseFormat: 'content_and_artifact',
      name: 'search_memory',
      description:
        "Search the organisation's memory: entities (organisations, people, products...), current facts about them, and past episodes. Yours and your task's private memories are included.",
      schema: TOOL_ARGS.search_memory,
    },
  );

  const recordKnowledgeTool = tool(
    async ({ content, kind, tags }, config) => {
      ran(config);
      const knowledge = {
        tenantId,
        kind: kind ?? KnowledgeKind.FACT,
        content,
        confidence: 0.8,
        tags: tags ?? [],
        runId: run.id,
        taskId: task.id,
        agentId: agent.id,
      };
      return withEffects('Recorded.', 'record_knowledge', [{ kind: 'knowledge', knowledge }]);
    },
    {
      responseFormat: 'content_and_artifact',
      name: 'record_knowledge',
      description: 'Record a fact or lesson you learned, so other agents can use it later.',
      schema: TOOL_ARGS.record_knowledge,
    },
  );

  const readInputsTool = tool(
    async () =>
      Object.entries(step.inputs)
        .map(([key, input]) => `${key} (${input.status}): ${input.result ?? ''}`)
        .join('\n') || 'This step has no earlier steps.',
    {
      name: 'read_dependency_outputs',
      description: 'Read what the steps this one depends on produced.',
      schema: TOOL_ARGS.read_dependency_outputs,
    },
  );

  const askAgentTool = tool(
    async ({ capability, question }, config) => {
      ran(config);
      const expert = await rt.uow.read(async (tx) => {
        const candidates = await candidateAgents(tx, [tenantId]);
        const others = candidates.filter((c) => c.agent.id !== agent.id);
        const pick =
          others
            .filter((c) => c.capabilities.some((cap) => cap.name === capability))
            .sort((a, b) => best(b, capability) - best(a, capability))[0] ?? others[0];
        // Chosen from summaries; it answers as itself (its model and prompt): read it whole.
        return pick ? (await agentsByIds(tx, tenantId, [pick.agent.id]))[0] : undefined;
      });
      if (!expert) return ['There is no other agent to ask.', NO_EFFECTS];
      const questionId = work.stableId(run.id, 'question', question);
      const model = rt.model(
        { purpose: 'chat', agentModel: expert.model },
        { ...step, agent: expert },
        'chat',
      );
      const reply = await model.invoke(
        [
          new SystemMessage(
            systemPrompt(
              expert,
              'chat',
              `A colleague, ${agent.name}, asks you something about their work.`,
            ),
          ),
          new HumanMessage(question),
        ],
        { signal: step.signal },
      );
      const answer = String(reply.content);
      const base = {
        tenantId,
        conversationId,
        conversationTitle: `Plan: ${task.title}`,
        broadcast: false,
        aboutTaskId: task.id,
      };
      const messages: work.MessageDraft[] = [
        {
          ...base,
          id: questionId,
          kind: 'QUESTION',
          content: question,
          fromAgentId: agent.id,
          toAgentIds: [expert.id],
        },
        {
          ...base,
          id: work.stableId(questionId, 'answer'),
          kind: 'ANSWER',
          content: answer,
          fromAgentId: expert.id,
          toAgentIds: [agent.id],
        },
      ];
      return withEffects(`${expert.name} answers: ${answer}`, 'ask_agent', [
        { kind: 'messages', messages },
      ]);
    },
    {
      responseFormat: 'content_and_artifact',
      name: 'ask_agent',
      description: 'Ask another agent, chosen by the capability you need, a question.',
      schema: TOOL_ARGS.ask_agent,
    },
  );

  const reportProgressTool = tool(
    async ({ note }, config) => {
      ran(config);
      const message: work.MessageDraft = {
        id: work.stableId(run.id, 'progress', note),
        tenantId,
        conversationId,
        conversationTitle: `Plan: ${task.title}`,
        kind: 'REPORT',
        content: `Progress on "${task.title}": ${note}`,
        fromAgentId: agent.id,
        toAgentIds: chiefId ? [chiefId] : [],
        broadcast: !chiefId,
        aboutTaskId: task.id,
      };
      return withEffects('Reported.', 'report_progress', [
        { kind: 'messages', messages: [message] },
      ]);
    },
    {
      responseFormat: 'content_and_artifact',
      name: 'report_progress',
      description: 'Tell your Chief of Staff how the step is going.',
      schema: TOOL_ARGS.report_progress,
    },
  );

  const all = [
    searchKnowledgeTool,
    searchMemoryTool,
    recordKnowledgeTool,
    readInputsTool,
    askAgentTool,
    reportProgressTool,
  ];
  // The run's agent version may name the tools it uses (issue 12); none named: all of them.
  const allowed = agent.tools ?? [];
  return allowed.length > 0 ? all.filter((t) => allowed.includes(t.name)) : all;
}

function best(c: { capabilities: { name: string; proficiency: number }[] }, name: string): number {
  return c.capabilities.find((cap) => cap.name === name)?.proficiency ?? 0;
}
