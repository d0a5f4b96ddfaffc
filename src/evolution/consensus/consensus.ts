import { agentsByIds } from '../../../graph/agent.repository.js';
import { candidateAgents } from '../../../graph/claim.repository.js';
import { consensusSpecsByTaskIds, writeConsensus } from '../../../graph/consensus.repository.js';
import { requirementsByTaskIds } from '../../../graph/task-relations.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { executeStep } from '../../agents/execute.js';
import type { AgentRuntime } from '../../agents/runtime.js';
import type { Agent } from '../../domain/agent.js';
import { ConsensusStrategy, type ConsensusSpec } from '../../domain/consensus.js';
import type { StepContext } from '../../engine/executor.js';
import { PendingWrites } from '../../engine/pending-writes.js';
import { judgeAnswers } from './judge.js';
import { countVotes } from './majority.js';
import { chooseVoters } from './voters.js';

/** Where an operator's report goes (the step's plan conversation and Chief of Staff). */
export type ReportTo = Parameters<typeof executeStep>[2];

/** The step's consensus spec, or null when it is answered by its own agent alone. */
export async function consensusOf(rt: AgentRuntime, step: StepContext) {
  const { task } = step;
  const specs = await rt.uow.read((tx) => consensusSpecsByTaskIds(tx, task.tenantId, [task.id]));
  return specs.get(task.id) ?? null;
}

/**
 * Each voter's agent loop has a checkpoint thread of its own. On the step's one thread, a voter
 * that started after another had finished took that one's answer for its own, and a retry
 * resumed one voter's loop for all of them. The step's own agent keeps the step's thread, where
 * forks and approvals look for it.
 */
export function voterThread(taskId: string, agentId: string, stepAgentId: string): string {
  return agentId === stepAgentId ? taskId : `${taskId}/voter/${agentId}`;
}

interface Voted {
  agent: Agent;
  content: string;
  /** What the voter's chain queued (its report, knowledge, messages): only the chosen one's commit. */
  writes: PendingWrites;
}

/**
 * Answers a step by consensus (issue 12): each voter (consensus/voters.ts) runs the Master
 * Operator chain on the step independently and at the same time, inside this one run (their
 * model calls are the run's :LLMCalls, each with its voter), then the answers are decided:
 * MAJORITY by the vote count (majority.ts), JUDGE by the `evaluation` judge (judge.ts; when the
 * judge fails, the count decides and the reason says so). Every answer and the decision are
 * queued on `step.writes` with the chosen voter's own writes (its report to the Chief of Staff,
 * its knowledge), so all of it commits with the step's outcome, or none of it; the other voters'
 * side effects are dropped, their answers kept. CONSENSUS_DECIDED is published after commit.
 * Returns the chosen answer, the step's result.
 *
 * @throws the abort reason once the step is aborted; a voter's error when fewer than two
 *   voters answered; a permanent StepError when fewer than two operators can vote.
 */
export async function answerByConsensus(
  rt: AgentRuntime,
  step: StepContext,
  spec: ConsensusSpec,
  reportTo: ReportTo,
): Promise<string> {
  const { task } = step;
  const tenantId = task.tenantId;
  const voters = await rt.uow.read(async (tx) => {
    const candidates = await candidateAgents(tx, [tenantId]);
    const requirements = (await requirementsByTaskIds(tx, tenantId, [task.id])).map((r) => r.name);
    const chosen = chooseVoters(candidates, requirements, step.agent, spec.voters);
    // Chosen from summaries: the others vote as themselves (model, prompt), read whole.
    const others = chosen.filter((v) => v.id !== step.agent.id).map((v) => v.id);
    const whole = new Map((await agentsByIds(tx, tenantId, others)).map((a) => [a.id, a]));
    return chosen.flatMap((v) => (v.id === step.agent.id ? [step.agent] : (whole.get(v.id) ?? [])));
  });
  const settled = await Promise.allSettled(
    voters.map(async (agent): Promise<Voted> => {
      const writes = new PendingWrites(step.signal);
      const thread = voterThread(task.id, agent.id, step.agent.id);
      const content = await executeStep(rt, { ...step, agent, writes }, reportTo, thread);
      return { agent, content, writes };
    }),
  );
  if (step.signal.aborted) throw step.signal.reason;
  const voted = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.flatMap((s, i) =>
    s.status === 'rejected' ? [{ agent: voters[i]!, error: s.reason as unknown }] : [],
  );
  if (voted.length < 2) throw failed[0]!.error;

  const count = countVotes(voted.map((v) => ({ content: v.content, author: v.agent.name })));
  let chosen = count.chosen;
  let how = count.reason;
  let tie = count.tie;
  if (spec.strategy === ConsensusStrategy.JUDGE) {
    try {
      const pick = await judgeAnswers(
        rt,
        step,
        voted.map((v) => v.content),
      );
      chosen = pick.index;
      tie = false;
      how = `the judge chose ${voted[chosen]!.agent.name}'s answer: ${pick.reason}`;
    } catch (err) {
      if (step.signal.aborted) throw step.signal.reason;
      rt.logger.warn({ err, taskId: task.id, runId: step.run.id }, 'consensus judge failed');
      how = `the judge failed (${(err as Error)?.message ?? String(err)}), so the vote count decided: ${how}`;
    }
  }
  const notes = [
    voters.length < spec.voters
      ? `${voters.length} of the ${spec.voters} voters asked for were available`
      : null,
    ...failed.map(
      (f) => `${f.agent.name} gave no answer (${(f.error as Error)?.message ?? f.error})`,
    ),
  ].filter((n): n is string => n !== null);
  const reason = [...notes, how].join('; ');
  const winner = voted[chosen]!;

  // Committed with the step's outcome, under its lease: the chosen voter's own writes first
  // (its report to the Chief of Staff), then every answer and the decision.
  step.writes.add('chosen answer', (tx, emit) => winner.writes.apply(tx, emit));
  step.writes.add('consensus decision', async (tx, emit) => {
    const id = await writeConsensus(tx, {
      tenantId,
      runId: step.run.id,
      strategy: spec.strategy,
      voters: spec.voters,
      tie,
      reason,
      answers: voted.map((v, i) => ({
        agentId: v.agent.id,
        content: v.content,
        votes: count.votes[i]!,
        chosen: i === chosen,
      })),
    });
    if (!id) return;
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId,
        kind: 'CONSENSUS_DECIDED',
        subjectLabel: 'Run',
        subjectId: step.run.id,
        summary: `${spec.strategy} chose ${winner.agent.name}'s answer to "${task.title}" (${count.votes[chosen]} of ${voted.length} votes)`,
      },
    });
  });
  rt.logger.info(
    { taskId: task.id, runId: step.run.id, strategy: spec.strategy, voters: voted.length },
    `consensus decided: ${reason}`,
  );
  return winner.content;
}
