import { toolSpans } from './tool-spans.js';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { createAgent } from 'langchain';
import { z } from 'zod';
import * as work from '../../graph/agent-work.repository.js';
import { KnowledgeKind } from '../domain/knowledge.js';
import { StepError, type StepContext } from '../engine/executor.js';
import { MEMORY_GIVEN } from '../llm/prompt-markers.js';
import { describeStep, describeTask, systemPrompt } from './prompts.js';
import { sendAgentMessage } from './messages.js';
import type { AgentRuntime } from './runtime.js';
import { operatorTools } from './tools.js';
import { runAgentLoop } from './checkpoint/resume.js';
import { seedFork } from './checkpoint/fork.js';
import { forkSourceOf } from '../../graph/fork.repository.js';
import { requeueEffects } from './effects.js';
import { approvalGate } from './approval.js';
import { mcpToolsFor } from '../mcp-client/tools.js';
import { mcpCallRecorder } from '../mcp-client/record.js';
import { taskContext } from '../../graph/memory/applied.repository.js';
import { MemoryHitKind } from '../domain/memory-search.js';
import { appliedWrite, memoryLine, PACKAGE_SIZE } from '../memory/retrieval/agent-memory.js';
import { lessonSection, lessonsForStep } from '../evolution/lessons/retrieve.js';

const Extracted = z.object({
  items: z
    .array(
      z.object({
        kind: z.enum([KnowledgeKind.FACT, KnowledgeKind.LESSON]).describe('FACT or LESSON'),
        content: z.string().describe('One thing worth remembering, in one sentence'),
        confidence: z.number().min(0).max(1).describe('How sure, 0 to 1'),
        tags: z.array(z.string()).describe('A few topic words'),
      }),
    )
    .max(5),
});

/**
 * A Master Operator carries out one step with its tools (langchain's createAgent), reports to
 * its Chief of Staff, and writes what it learned back with provenance (LEARNED_FROM the run and
 * the task, CONTRIBUTED_BY the agent). Its loop is checkpointed on `threadId`: the step's id,
 * or a consensus voter's own thread (evolution/consensus/consensus.ts voterThread).
 */
export async function executeStep(
  rt: AgentRuntime,
  step: StepContext,
  plan: { conversationId: string; chiefId: string | null; rootId?: string | null },
  threadId: string = step.task.id,
): Promise<string> {
  const { task, agent } = step;
  // The context package its Chief of Staff chose for this step (issue 11), used by this run.
  const context = await rt.uow.read((tx) => taskContext(tx, task.tenantId, task.id, PACKAGE_SIZE));
  if (context.length > 0) {
    step.writes.add('context package applied', appliedWrite(task.tenantId, step.run.id, context));
  }
  const contextSection = context.length
    ? `\n\n${MEMORY_GIVEN}\n${context.map((c) => `- ${memoryLine({ kind: c.label === 'Entity' ? MemoryHitKind.ENTITY : MemoryHitKind.FACT, text: c.text })}`).join('\n')}`
    : '';
  // The lessons of its capability and family, as rules (issue 12); APPLIED_IN queued.
  const rules = lessonSection(await lessonsForStep(rt, step, false));
  const request = {
    purpose: 'execution' as const,
    priority: task.priority,
    agentModel: agent.model,
  };
  // The loop is checkpointed on the step's thread (issue 13): a retry resumes where it stopped.
  const checkpointer = rt.checkpointer?.({ tenantId: task.tenantId, runId: step.run.id });
  const ranHere = new Set<string>();
  // Tools a person must approve for this agent and task stop the loop until decided (issue 13).
  // Its granted MCP tools (issue 16): destructive ones wait for a person unless a policy says not.
  const mcp = await mcpToolsFor(rt, step);
  const gate = await approvalGate(rt, step, checkpointer !== undefined, mcp.destructive);
  const recorder = mcp.tools.length
    ? mcpCallRecorder(rt, step, mcp.byName, rt.mcp!.cfg.resultMaxChars)
    : null;
  const operator = createAgent({
    model: rt.model(request, step, 'execution'),
    tools: [
      ...operatorTools(rt, step, plan.conversationId, plan.chiefId, plan.rootId ?? null, ranHere),
      ...mcp.tools,
    ],
    systemPrompt: systemPrompt(
      agent,
      'execution',
      'Carry out the step with your tools, then answer with a short report of what you found or did.',
    ),
    checkpointer,
    middleware: [toolSpans(), gate, recorder].filter((m) => m !== null),
  });
  const input = new HumanMessage(
    `${rules}Step: ${describeStep(task, step.inputs)}${contextSection}`,
  );
  // A fork starts its thread from the checkpoint it was forked from (issue 13).
  const fork = await rt.uow.read((tx) => forkSourceOf(tx, task.tenantId, task.id));
  if (fork?.checkpoint && !checkpointer)
    throw new StepError('a fork needs agent-loop checkpoints, which are off here', false);
  if (fork?.checkpoint && checkpointer)
    await seedFork(operator, checkpointer, { ...fork.checkpoint, message: fork.message }, task.id);
  // An imported fork has no checkpoint (exports leave them out): it starts from the step's
  // input, and the person's message comes right after it, so it is not lost.
  const asked = !fork?.checkpoint && fork?.message ? [new HumanMessage(fork.message)] : [];
  const loop = await runAgentLoop(
    operator,
    checkpointer,
    { messages: [input, ...asked] },
    { signal: step.signal, recursionLimit: 12, threadId },
  );
  // Calls an earlier attempt ran before the checkpoint: their effects commit with this outcome.
  const requeued = requeueEffects(step, loop.messages, ranHere);
  if (loop.start !== 'FRESH') {
    rt.logger.info(
      { taskId: task.id, runId: step.run.id, start: loop.start, requeued },
      'the step resumed its agent loop from its last checkpoint',
    );
  }
  const last = loop.messages.at(-1);
  const report =
    typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');

  const extractor = rt.model(
    { purpose: 'extraction', agentModel: agent.model },
    step,
    'extraction',
  );
  const learned = await extractor
    .withStructuredOutput(Extracted, { name: 'knowledge' })
    .invoke(
      [
        new SystemMessage(
          systemPrompt(agent, 'extraction', 'List what is worth remembering from this report.'),
        ),
        new HumanMessage(`${describeTask(task)}\nReport: ${report}`),
      ],
      { signal: step.signal },
    )
    .catch((err: unknown) => {
      // An abort (cancelled, timed out, worker stopping) ends the step: swallowing it here
      // let a timed-out step complete anyway (issue 10).
      if (step.signal.aborted) throw step.signal.reason;
      if ((err as Error)?.name === 'AbortError') throw err;
      rt.logger.warn(
        { err, taskId: task.id, runId: step.run.id, agentId: agent.id },
        'knowledge extraction failed; the report stands',
      );
      return { items: [] };
    });

  // Committed with the step's outcome: only the attempt that succeeds leaves a report.
  step.writes.add('report and knowledge', async (tx, emit) => {
    for (const item of learned.items) {
      await work.writeKnowledge(tx, {
        tenantId: task.tenantId,
        kind: item.kind,
        content: item.content,
        confidence: item.confidence,
        tags: item.tags.slice(0, 20),
        runId: step.run.id,
        taskId: task.id,
        agentId: agent.id,
      });
    }
    await sendAgentMessage(tx, emit, {
      // Per run: an earlier attempt's report can never stand in for this one's.
      id: work.stableId(task.id, 'report', step.run.id),
      tenantId: task.tenantId,
      conversationId: plan.conversationId,
      conversationTitle: `Plan: ${task.title}`,
      kind: 'REPORT',
      content: report,
      fromAgentId: agent.id,
      toAgentIds: plan.chiefId ? [plan.chiefId] : [],
      broadcast: !plan.chiefId,
      aboutTaskId: task.id,
    });
  });
  return report;
}
