import type { AgentsWanted, CandidateAgent } from '../../graph/claim.repository.js';
import { AgentRole } from '../domain/agent.js';
import type { Task } from '../domain/task.js';

export interface Assignment {
  agentId: string;
  score: number;
  reason: string;
}

/** How much each part weighs in an assignment score (they add up to 1). */
const WEIGHTS = { capability: 0.4, load: 0.25, performance: 0.25, availability: 0.1 };

/** Work only a Chief of Staff does: planning a submitted task, and writing a plan's answer. */
export function needsChiefOfStaff(task: Pick<Task, 'needsPlan' | 'key'>): boolean {
  return task.needsPlan || task.key === 'synthesis';
}

/**
 * Picks the agent for a step, scoring four things: capability match (share of the required
 * capabilities it has), load (steps in flight against the per-agent limit), past performance
 * on those capabilities (the smoothed mean judged score, or the smoothed success rate while no
 * run was scored, and latency), and availability (IDLE over BUSY). Agents at their limit are not eligible; neither are agents missing a required
 * capability while another has them all. A current assignee that is still eligible keeps the
 * step. Returns null when no agent can take it: the step waits.
 *
 * Planning and synthesis (`chiefOfStaff`) run only on a Chief of Staff: the one assigned while
 * it has room, any other with room otherwise (a synthesis reads the plan's reports, whoever
 * planned); never on a Master Operator, however long they wait (issue 10). Other steps go to
 * Master Operators, or to a Chief of Staff a person assigned them to.
 */
export function chooseAgent(
  requirements: string[],
  candidates: CandidateAgent[],
  perAgentLimit: number,
  currentAssigneeId: string | null,
  { chiefOfStaff = false }: { chiefOfStaff?: boolean } = {},
): Assignment | null {
  const scored = eligible(candidates, currentAssigneeId, chiefOfStaff)
    .filter((c) => c.load < perAgentLimit)
    .map((c) => score(requirements, c, perAgentLimit));
  const full = scored.filter((s) => s.capability === 1);
  // A Chief of Staff's work needs no capability match: any Chief of Staff can plan.
  const pool = chiefOfStaff
    ? scored
    : full.length > 0
      ? full
      : scored.filter((s) => requirements.length === 0 || s.capability > 0);
  if (pool.length === 0) return null;
  const kept = pool.find((s) => s.agentId === currentAssigneeId);
  if (kept)
    return { agentId: kept.agentId, score: kept.total, reason: `kept assignee; ${kept.reason}` };
  pool.sort((a, b) => b.total - a.total || a.agentId.localeCompare(b.agentId));
  const best = pool[0]!;
  return { agentId: best.agentId, score: best.total, reason: best.reason };
}

/**
 * The agents chooseAgent could pick for these steps, to read no others: Chiefs of Staff for
 * planning and synthesis; for a step with requirements, Master Operators with at least one of
 * them (one with none is never chosen while it has requirements); each step's current assignee.
 * Null when any other step has no requirements: then every Master Operator can take it.
 */
export function agentsWanted(
  steps: {
    task: Pick<Task, 'needsPlan' | 'key'>;
    requirements: string[];
    assigneeId: string | null;
  }[],
): AgentsWanted | null {
  const capabilities = new Set<string>();
  const ids = new Set<string>();
  let chiefs = false;
  for (const s of steps) {
    if (s.assigneeId) ids.add(s.assigneeId);
    if (needsChiefOfStaff(s.task)) chiefs = true;
    else if (s.requirements.length === 0) return null;
    else s.requirements.forEach((r) => capabilities.add(r));
  }
  return { chiefs, capabilities: [...capabilities], ids: [...ids] };
}

/** The agents that may run the step at all, before limits. */
function eligible(candidates: CandidateAgent[], assigneeId: string | null, chiefOfStaff: boolean) {
  if (!chiefOfStaff) {
    // Master Operators execute; a Chief of Staff runs only the steps assigned to it.
    return candidates.filter(
      (c) => c.agent.role === AgentRole.MASTER_OPERATOR || c.agent.id === assigneeId,
    );
  }
  return candidates.filter((c) => c.agent.role === AgentRole.CHIEF_OF_STAFF);
}

/** Why a step no agent could take waits: kept on the task (`waitingReason`) for people to read. */
export function waitingReason(
  requirements: string[],
  candidates: CandidateAgent[],
  perAgentLimit: number,
  currentAssigneeId: string | null,
  { chiefOfStaff = false }: { chiefOfStaff?: boolean } = {},
): string {
  if (!chiefOfStaff) {
    return requirements.length
      ? `waiting for an available agent with ${requirements.join(', ')}`
      : 'waiting for an available agent';
  }
  const chiefs = eligible(candidates, currentAssigneeId, true);
  if (chiefs.length === 0)
    return 'waiting for an available Chief of Staff (none is active and available)';
  const names = chiefs.map((c) => `${c.agent.name} ${c.load}/${perAgentLimit}`).join(', ');
  return `waiting for a Chief of Staff with room (planning and synthesis never go to a Master Operator): ${names}`;
}

function score(requirements: string[], c: CandidateAgent, perAgentLimit: number) {
  const caps = new Map(c.capabilities.map((cap) => [cap.name, cap]));
  const matched = requirements.filter((r) => caps.has(r));
  const capability = requirements.length === 0 ? 1 : matched.length / requirements.length;
  const load = 1 - c.load / perAgentLimit;
  const stats = matched.map((r) => caps.get(r)!);
  const runs = stats.reduce((n, s) => n + s.runs, 0);
  const successes = stats.reduce((n, s) => n + s.successes, 0);
  const successRate = (successes + 1) / (runs + 2); // Laplace: unknown agents start at 0.5
  // The judged score (each run's effective evaluation) says how good a result was, not only
  // that the step did not throw (issue 12); smoothed the same way, toward 0.5.
  const scored = stats.reduce((n, s) => n + (s.scored ?? 0), 0);
  const scoreSum = stats.reduce((n, s) => n + (s.scoreSum ?? 0), 0);
  const meanScore = (scoreSum + 1) / (scored + 2);
  const quality = scored > 0 ? meanScore : successRate;
  const latencyMs = runs > 0 ? stats.reduce((n, s) => n + s.avgLatencyMs * s.runs, 0) / runs : 0;
  const speed = 1 / (1 + latencyMs / 10_000);
  const performance = runs > 0 ? 0.8 * quality + 0.2 * speed : 0.5;
  const availability = c.agent.status === 'IDLE' ? 1 : 0.6;
  const total =
    WEIGHTS.capability * capability +
    WEIGHTS.load * load +
    WEIGHTS.performance * performance +
    WEIGHTS.availability * availability;
  const reason =
    `${c.agent.name}: capabilities ${matched.length}/${requirements.length}` +
    (requirements.length ? ` (${requirements.join(', ')})` : '') +
    `, load ${c.load}/${perAgentLimit}, success ${successes}/${runs}` +
    (scored > 0 ? `, judged ${(scoreSum / scored).toFixed(2)} over ${scored}` : '') +
    (runs > 0 ? `, ${Math.round(latencyMs)} ms avg` : '') +
    `, ${c.agent.status}; score ${total.toFixed(3)}`;
  return { agentId: c.agent.id, capability, total: Number(total.toFixed(4)), reason };
}
