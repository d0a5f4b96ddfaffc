import * as work from '../../graph/agent-work.repository.js';
import { candidateAgents } from '../../graph/claim.repository.js';
import { searchKnowledge } from '../../graph/knowledge.repository.js';
import { luceneQuery } from '../../graph/fulltext.js';
import { delegatorsByTaskIds } from '../../graph/task-relations.repository.js';
import * as tasks from '../../graph/task.repository.js';
import { StepError, type Executor, type StepContext } from '../engine/executor.js';
import { LimitExceededError } from '../domain/errors.js';
import { refuseOverQueuedSteps } from '../services/backlog.js';
import { executeStep } from './execute.js';
import { planTask } from './plan.js';
import { sendAgentMessage } from './messages.js';
import type { AgentRuntime } from './runtime.js';
import { synthesize } from './synthesize.js';
import { delegates } from './team.js';
import { judgeStep } from '../evolution/evaluate/judge.js';
import { answerByConsensus, consensusOf } from '../evolution/consensus/consensus.js';
import { LIMITS } from '../domain/validate.js';
import { lessonSection, lessonsForStep, withoutManaged } from '../evolution/lessons/retrieve.js';
import { offeredSkill } from '../evolution/skills/offer.js';
import { DEFAULT_EVOLUTION } from '../evolution/config.js';
import {
  appliedWrite,
  contextPackages,
  contextWrite,
  memoryLine,
  planningMemory,
  refOf,
} from '../memory/retrieval/agent-memory.js';
import { executeRemote } from '../a2a/remote.js';
import { inSpan, SpanKind } from '../tracing/tracer.js';

/**
 * The engine's executor for agent work. A submitted task is planned by its Chief of Staff
 * (the plan becomes its subtasks, and the task their parent); a `synthesis` step is the Chief
 * of Staff writing the answer; every other step is a Master Operator at work.
 */
export function agentExecutor(rt: AgentRuntime): Executor {
  const run = runAgent(rt);
  // One `invoke_agent` span per step (GenAI conventions): its model calls and tool calls below it.
  return (step) =>
    inSpan(
      `invoke_agent ${step.agent.name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.id': step.agent.id,
          'gen_ai.agent.name': step.agent.name,
          'gen_ai.agent.version': String(step.agent.usedVersion ?? step.agent.version),
        },
      },
      () => run(step),
    );
}

function runAgent(rt: AgentRuntime): Executor {
  return async (step) => {
    const { task } = step;
    if (task.needsPlan) {
      // The summary (flagging capabilities no agent has) is logged: the task's result is its
      // answer, written when its steps settle it.
      const summary = await plan(rt, step);
      rt.logger.info({ taskId: task.id, runId: step.run.id }, summary);
      return { result: summary, expand: true };
    }
    const rootId = await rt.uow.read((tx) => tasks.parentOf(tx, task.tenantId, task.id));
    const conversationId = work.stableId(rootId ?? task.id, 'plan-conversation');
    if (task.key === 'synthesis' && rootId) {
      const [root] = await rt.uow.read((tx) => tasks.tasksByIds(tx, task.tenantId, [rootId]));
      const answer = await synthesize(rt, step, root!);
      // Judged against the root's description: the run and the root task (issue 12).
      await judgeStep(rt, step, answer, root!);
      return { result: answer };
    }
    // An outside A2A agent's step goes to it (issue 16), judged as any operator's.
    if (step.agent.remote) {
      const result = await executeRemote(rt, step, step.agent.remote);
      await judgeStep(rt, step, result);
      return { result };
    }
    const [delegator] = await rt.uow.read((tx) =>
      delegatorsByTaskIds(tx, task.tenantId, [task.id]),
    );
    const reportTo = { conversationId, chiefId: delegator?.agent.id ?? null, rootId };
    // A step with `consensus` is answered by several operators and decided (issue 12).
    const consensus = await consensusOf(rt, step);
    const result = consensus
      ? await answerByConsensus(rt, step, consensus, reportTo)
      : await executeStep(rt, step, reportTo);
    // The operator's result is judged (issue 12); the evaluation commits with the outcome.
    await judgeStep(rt, step, result);
    return { result };
  };
}

/**
 * Fails the planning step for good (retryTask plans again) when `adding` steps would take the
 * tenant's queued steps past TENANT_MAX_QUEUED_STEPS: waiting would re-plan, a model call each
 * time, and a plan written anyway would grow the backlog the cap bounds. Read apart from the
 * end's transaction, which other steps' ends may share (a refusal there would undo theirs), so
 * plans ending at once may overshoot the cap by their own steps.
 */
async function refuseOverQueue(
  rt: AgentRuntime,
  tenantId: string,
  operation: string,
  adding: number,
): Promise<void> {
  try {
    await rt.uow.read((tx) => refuseOverQueuedSteps(tx, tenantId, rt.backlog, operation, adding));
  } catch (err) {
    if (!(err instanceof LimitExceededError)) throw err;
    throw new StepError(`LIMIT_EXCEEDED: ${err.message}; then retryTask plans it again`, false);
  }
}

async function plan(rt: AgentRuntime, step: StepContext): Promise<string> {
  const { task, agent: chief } = step;
  const tenantId = task.tenantId;
  // A plan is committed only with its planning step's success, so one found here was
  // committed by an earlier attempt (the task was retried since): keep it.
  if (await rt.uow.read((tx) => work.hasPlan(tx, tenantId, task.id)))
    return 'planned (kept the plan written before)';
  // At the cap already: no planning call is spent on a plan that could not be queued.
  await refuseOverQueue(rt, tenantId, 'A plan (a step and its synthesis at least)', 2);
  const [operators, knowledge] = await rt.uow.read(
    async (tx) =>
      [
        await candidateAgents(tx, [tenantId]),
        // Lessons and skills with a lifecycle come through their own retrieval, not search.
        luceneQuery(task.title)
          ? withoutManaged(await searchKnowledge(tx, tenantId, task.title, 5))
          : [],
      ] as const,
  );
  // The family's lessons, as rules for the plan (issue 12); APPLIED_IN queued on step.writes.
  const lessons = await lessonsForStep(rt, step, true);
  const memories = await planningMemory(
    rt,
    { tenantId, agentId: chief.id, taskIds: [task.id] },
    `${task.title} ${task.description ?? ''}`.slice(0, LIMITS.search),
    step.signal,
  );
  // The best skill of the task's family (issue 12): a workflow that worked before.
  const skill = await offeredSkill(rt.uow, tenantId, task.id, {
    runId: step.run.id,
    candidateShare: (rt.lessons ?? DEFAULT_EVOLUTION.lessons).candidateShare,
  });
  const model = rt.model(
    { purpose: 'planning', priority: task.priority, agentModel: chief.model },
    step,
    'planning',
  );
  const { steps, unknownCapabilities } = await planTask(
    model,
    chief,
    task,
    operators,
    knowledge.map((k) => `${k.knowledge.kind}: ${k.knowledge.content}`),
    step.signal,
    memories.map(memoryLine),
    skill?.block ?? '',
    lessonSection(lessons),
  );
  await refuseOverQueue(
    rt,
    tenantId,
    `A plan of ${steps.length} steps and a synthesis`,
    steps.length + 1,
  );
  const conversationId = work.stableId(task.id, 'plan-conversation');
  // What the planning prompt showed is recorded as used by this run (the lessons too).
  step.writes.add(
    'planning memory applied',
    appliedWrite(tenantId, step.run.id, [
      ...knowledge.map((k) => ({ label: 'Knowledge' as const, id: k.knowledge.id })),
      ...memories.map(refOf),
      ...(skill ? [{ label: 'Knowledge' as const, id: skill.skill.id }] : []),
    ]),
  );
  const packages = contextPackages(steps, memories);
  // Queued, not written: the plan commits with the step's outcome, under its lease, so an
  // aborted attempt or one that lost the task to another worker leaves no plan behind.
  step.writes.add('plan', async (tx, emit) => {
    const ids = await work.writePlan(tx, tenantId, task.id, chief.id, steps);
    // The Chief of Staff's context package for each operator: (:Task)-[:CONTEXT]->(memory).
    await contextWrite(
      tenantId,
      steps.map((s) => ({ taskId: ids[s.key]!, items: packages.get(s.key) ?? [] })),
    )(tx);
    for (const s of steps) {
      const holders = delegates(
        operators.filter((o) => o.capabilities.some((c) => c.name === s.capability)),
      );
      await sendAgentMessage(tx, emit, {
        // By step id: a re-plan after rejectPlan has new steps under the same keys.
        id: work.stableId(ids[s.key]!, 'delegation'),
        tenantId,
        conversationId,
        conversationTitle: `Plan: ${task.title}`,
        kind: 'DELEGATION',
        content: `${s.title}: ${s.instructions}`,
        fromAgentId: chief.id,
        toAgentIds: holders.map((h) => h.agent.id),
        broadcast: holders.length === 0,
        aboutTaskId: ids[s.key]!,
      });
    }
  });
  const flagged = unknownCapabilities.length
    ? `; no agent has ${unknownCapabilities.join(', ')} (flagged: those steps wait for such an agent)`
    : '';
  return `Planned ${steps.length} step(s) and a synthesis${flagged}`;
}
