import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import {
  lowScoringRuns,
  type RunEvidence,
} from '../../../graph/agent-version-evidence.repository.js';
import { lockAgent, agentsByIds } from '../../../graph/agent.repository.js';
import { versionsOfAgents } from '../../../graph/agent-version.repository.js';
import type { PubSub } from '../../../subscriptions/pubsub.js';
import type { Agent } from '../../domain/agent.js';
import { VersionStatus, type AgentVersion } from '../../domain/agent-version.js';
import type { BudgetDefaults } from '../../domain/budget.js';
import { BadInputError, ConflictError, NotFoundError } from '../../domain/errors.js';
import { PASS_FROM } from '../../domain/evaluation.js';
import { LIMITS } from '../../domain/validate.js';
import { LLMCallRecorder } from '../../llm/accounting.js';
import { BudgetGuard } from '../../llm/budget.js';
import type { LlmConfig } from '../../llm/config.js';
import { createChatModel, describeModel } from '../../llm/models.js';
import { PROPOSE_MARKER } from '../../llm/offline-reflection-version.js';
import { purposeMarker } from '../../llm/routing.js';
import type { Logger } from '../../logger.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { addCandidate, assertNoCandidate, liveVersionOf } from './lifecycle.js';

/*
 * proposeAgentVersion (issue 12), GEPA-style: a reflection chain reads the agent's recent
 * low-scoring runs with their evaluations (reasons, comments, the step and its result) and
 * writes revised instructions with a rationale, saved as a CANDIDATE version (origin PLATFORM)
 * that gets a canary share of the agent's runs.
 */

export const ProposalSchema = z.object({
  instructions: z
    .string()
    .describe('The complete revised instructions (system prompt) for the agent'),
  rationale: z.string().describe('Why: which failures the changes address, in a few sentences'),
});

/** How many of the agent's latest ended runs are searched for low scores, and how many shown. */
const WINDOW = 50;
const SHOWN = 8;

export interface ProposeDeps {
  uow: UnitOfWork;
  llm: LlmConfig;
  logger: Logger;
  budgets?: BudgetDefaults;
  pubsub?: PubSub;
  /** The candidate's share of the agent's runs (EVOLUTION_CANARY_SHARE). */
  canaryShare: number;
}

export async function proposeAgentVersion(
  deps: ProposeDeps,
  tenantId: string,
  agentId: string,
  actor: string,
): Promise<AgentVersion> {
  const { agent, live, evidence } = await deps.uow.read(async (tx) => {
    const [agent] = await agentsByIds(tx, tenantId, [agentId]);
    if (!agent) throw new NotFoundError('Agent', agentId);
    await assertNoCandidate(tx, tenantId, agentId);
    const [live] = await versionsOfAgents(tx, tenantId, [agentId], [VersionStatus.LIVE]);
    const evidence = await lowScoringRuns(tx, tenantId, agentId, {
      below: PASS_FROM,
      window: WINDOW,
      limit: SHOWN,
    });
    return { agent, live, evidence };
  });
  if (evidence.length === 0) {
    throw new BadInputError(
      `Agent ${agent.name} has no evaluated run scoring below ${PASS_FROM} among its ${WINDOW} latest: there is no evidence to learn from yet (rate its runs with rateRun, or wait for their evaluations)`,
      { agentId },
    );
  }
  const current = live?.systemPrompt ?? agent.systemPrompt ?? '';
  const proposal = await reflect(deps, agent, current, evidence);
  const instructions = proposal.instructions.trim();
  if (instructions === current.trim()) {
    throw new ConflictError(
      `The reflection on ${evidence.length} low-scoring run(s) of agent ${agent.name} proposed no change to its instructions: nothing to try`,
      { agentId },
    );
  }
  if (!instructions || instructions.length > LIMITS.systemPrompt) {
    throw new ConflictError(
      `The reflection proposed instructions of ${instructions.length} characters; they must be 1 to ${LIMITS.systemPrompt}: try again`,
    );
  }
  return deps.uow.run(async (tx, emit) => {
    if (!(await lockAgent(tx, tenantId, agentId))) throw new NotFoundError('Agent', agentId);
    const liveNow = await liveVersionOf(tx, emit, tenantId, agentId);
    if (!liveNow) throw new NotFoundError('Agent', agentId);
    return addCandidate(tx, emit, {
      tenantId,
      live: liveNow,
      systemPrompt: instructions,
      reason: `${proposal.rationale.trim()} (from ${evidence.length} low-scoring run(s): ${evidence.map((e) => e.runId).join(', ')})`,
      canaryShare: deps.canaryShare,
      actor,
    });
  });
}

/** The reflection chain: one structured call, purpose `reflection`, booked to the agent. */
async function reflect(
  deps: ProposeDeps,
  agent: Agent,
  current: string,
  evidence: RunEvidence[],
): Promise<z.infer<typeof ProposalSchema>> {
  const request = { purpose: 'reflection' as const };
  const recorder = new LLMCallRecorder({
    store: deps.uow,
    tenantId: agent.tenantId,
    purpose: 'reflection',
    runId: null,
    taskId: null,
    agentId: agent.id,
    prices: deps.llm.prices,
    describe: describeModel(request, deps.llm),
    log: deps.logger,
  });
  const guard = deps.budgets
    ? new BudgetGuard(
        { uow: deps.uow, defaults: deps.budgets, logger: deps.logger },
        { tenantId: agent.tenantId, agentId: agent.id, taskId: null },
      )
    : undefined;
  const model = createChatModel(request, deps.llm, [recorder], deps.logger, guard);
  recorder.attach(model);
  try {
    return await model
      .withStructuredOutput(ProposalSchema, { name: 'proposal' })
      .invoke([
        new SystemMessage(
          'You improve the instructions of an AI agent from evidence: runs of it that scored low, with what their evaluators said. Keep what works; add or change rules so that the failures do not happen again; keep the instructions short and imperative.\n' +
            purposeMarker('reflection'),
        ),
        new HumanMessage(reflectionPrompt(agent, current, evidence)),
      ]);
  } finally {
    await recorder.flush();
  }
}

/** The prompt; its first line is the offline model's marker (offline-reflection-version.ts). */
export function reflectionPrompt(agent: Agent, current: string, evidence: RunEvidence[]): string {
  const clip = (s: string | null, n: number) =>
    !s ? '(none)' : s.length > n ? `${s.slice(0, n - 1)}…` : s;
  const runs = evidence.map((e, i) =>
    [
      `Run ${i + 1}: step "${clip(e.title, 200)}", score ${e.score.toFixed(2)} (${e.verdict}), ${e.status}`,
      `Step description: ${clip(e.description, 500)}`,
      `Expected output: ${clip(e.expectedOutput, 300)}`,
      `Result: ${clip(e.result ?? e.error, 600)}`,
      'Evaluations:',
      ...e.evaluations.flatMap((ev) => [
        `- ${ev.source} score ${Number(ev.score).toFixed(2)}`,
        ...(ev.comment ? [`  comment: ${clip(ev.comment, 500)}`] : []),
        ...ev.reasons.slice(0, 5).map((r) => `  reason: ${clip(r, 300)}`),
      ]),
    ].join('\n'),
  );
  return [
    `${PROPOSE_MARKER} revised instructions for agent ${agent.name} (${agent.role}).`,
    // No placeholder between the marks: a model (the offline one too) would keep it.
    ...(current.trim()
      ? ['Current instructions:', '<<<', current, '>>>']
      : ['Current instructions: none yet (write them from the runs below).']),
    '',
    `Its ${evidence.length} recent low-scoring run(s):`,
    runs.join('\n\n'),
    '',
    'Answer with the complete revised instructions and a short rationale.',
  ].join('\n');
}
