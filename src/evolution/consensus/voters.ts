import type { AgentSummary, CandidateAgent } from '../../../graph/claim.repository.js';
import { AgentRole, type Agent } from '../../domain/agent.js';
import { StepError } from '../../engine/executor.js';

/**
 * Who votes on a consensus step: active Master Operators (not PAUSED, ERROR or OFFLINE) with
 * every capability the step requires (any operator when it requires none). The step's own
 * agent votes first when it is one of them; the others follow by proficiency in the step's
 * capabilities, then load, then name and id, so the same organisation always gives the same
 * voters in the same order.
 *
 * Fewer than asked for: the vote goes ahead with as many as there are, as long as there are at
 * least two (the decision's reason says so); with fewer than two there is nothing to decide,
 * and the step fails permanently with the reason (retryTask once the organisation has them).
 *
 * @throws StepError (permanent) when fewer than two operators qualify.
 */
export function chooseVoters(
  candidates: readonly CandidateAgent[],
  requirements: readonly string[],
  assigned: Agent,
  wanted: number,
): AgentSummary[] {
  const proficiency = (c: CandidateAgent) =>
    requirements.reduce(
      (sum, name) => sum + (c.capabilities.find((k) => k.name === name)?.proficiency ?? 0),
      0,
    );
  const eligible = candidates.filter(
    (c) =>
      c.agent.role === AgentRole.MASTER_OPERATOR &&
      requirements.every((name) => c.capabilities.some((k) => k.name === name)),
  );
  const ranked = [...eligible].sort(
    (a, b) =>
      Number(b.agent.id === assigned.id) - Number(a.agent.id === assigned.id) ||
      proficiency(b) - proficiency(a) ||
      a.load - b.load ||
      a.agent.name.localeCompare(b.agent.name) ||
      a.agent.id.localeCompare(b.agent.id),
  );
  const voters = ranked
    .slice(0, wanted)
    // The step's own agent as claimed (its version's settings), the others as they are now.
    .map((c) => (c.agent.id === assigned.id ? assigned : c.agent));
  if (voters.length < 2) {
    const what = requirements.length
      ? `with ${requirements.map((r) => `"${r}"`).join(' and ')}`
      : 'at all';
    throw new StepError(
      `consensus needs at least 2 active Master Operators ${what} to vote, but found ${voters.length}${voters.length ? ` (${voters.map((v) => v.name).join(', ')})` : ''}: add or activate operators with that capability, then retry the task`,
      false,
    );
  }
  return voters;
}
