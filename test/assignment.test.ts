import { describe, expect, it } from 'vitest';
import type { CandidateAgent } from '../graph/claim.repository.js';
import { AgentRole, AgentStatus } from '../src/domain/agent.js';
import { chooseAgent, needsChiefOfStaff, waitingReason } from '../src/engine/assignment.js';

const agent = (name: string, role: AgentRole, load = 0): CandidateAgent => ({
  agent: {
    id: `id-${name}`,
    tenantId: 't',
    name,
    role,
    status: AgentStatus.IDLE,
  },
  load,
  capabilities: [],
});

const chief = (name: string, load = 0) => agent(name, AgentRole.CHIEF_OF_STAFF, load);
const operator = (name: string, load = 0) => agent(name, AgentRole.MASTER_OPERATOR, load);
const cos = { chiefOfStaff: true };

describe('assignment of a Chief of Staff’s work', () => {
  it('planning and synthesis are Chief of Staff work; other steps are not', () => {
    expect(needsChiefOfStaff({ needsPlan: true, key: null })).toBe(true);
    expect(needsChiefOfStaff({ needsPlan: false, key: 'synthesis' })).toBe(true);
    expect(needsChiefOfStaff({ needsPlan: false, key: 'research' })).toBe(false);
  });

  it('never gives planning or synthesis to a Master Operator, even when the Chief of Staff is full', () => {
    const pool = [chief('Chief', 4), operator('Idle')];
    expect(chooseAgent([], pool, 4, 'id-Chief', cos)).toBeNull();
    expect(waitingReason([], pool, 4, 'id-Chief', cos)).toBe(
      'waiting for a Chief of Staff with room (planning and synthesis never go to a Master Operator): Chief 4/4',
    );
    expect(chooseAgent([], [operator('Idle')], 4, null, cos)).toBeNull();
    expect(waitingReason([], [operator('Idle')], 4, null, cos)).toContain(
      'none is active and available',
    );
  });

  it('keeps the assigned Chief of Staff while it has room, even over a freer one', () => {
    const pool = [chief('Assigned', 3), chief('Other', 0)];
    expect(chooseAgent([], pool, 4, 'id-Assigned', cos)?.agentId).toBe('id-Assigned');
  });

  it('gives the work to another Chief of Staff with room when the assigned one is full or gone', () => {
    const full = [chief('Assigned', 4), chief('Other', 2), operator('Idle')];
    expect(chooseAgent([], full, 4, 'id-Assigned', cos)?.agentId).toBe('id-Other');
    const pool = [chief('Busy', 4), chief('Free', 1), operator('Idle')];
    expect(chooseAgent(['research'], pool, 4, null, cos)?.agentId).toBe('id-Free');
    expect(chooseAgent([], pool, 4, 'id-Paused', cos)?.agentId).toBe('id-Free');
  });

  it('gives other steps to Master Operators, or to a Chief of Staff only when assigned to it', () => {
    const pool = [chief('Chief'), operator('Op', 3)];
    expect(chooseAgent([], pool, 4, null)?.agentId).toBe('id-Op');
    expect(chooseAgent([], pool, 4, 'id-Chief')?.agentId).toBe('id-Chief');
  });
});

describe('assignment on judged scores (issue 12)', () => {
  /** A Master Operator with a record on capability `a`. */
  const record = (
    name: string,
    runs: number,
    successes: number,
    judged?: { scored: number; scoreSum: number },
  ): CandidateAgent => ({
    ...operator(name),
    capabilities: [
      { name: 'a', proficiency: 0.5, runs, successes, avgLatencyMs: 1_000, ...judged },
    ],
  });

  it('prefers an agent whose results were judged good over one with more successes but low judged scores', () => {
    const busyButPoor = record('Poor', 20, 20, { scored: 20, scoreSum: 20 * 0.3 });
    const fewButGood = record('Good', 10, 8, { scored: 10, scoreSum: 10 * 0.9 });
    const chosen = chooseAgent(['a'], [busyButPoor, fewButGood], 4, null);
    expect(chosen?.agentId).toBe('id-Good');
    expect(chosen?.reason).toContain('success 8/10, judged 0.90 over 10');
  });

  it('falls back to the success rate while no run of a candidate was scored', () => {
    const pool = [record('Unjudged', 10, 9), record('Failing', 10, 2, { scored: 0, scoreSum: 0 })];
    expect(chooseAgent(['a'], pool, 4, null)?.agentId).toBe('id-Unjudged');
    // Smoothed toward 0.5: one perfect judgement does not outweigh nine successes of ten.
    const judged = [record('Unjudged', 10, 9), record('Judged', 1, 1, { scored: 1, scoreSum: 1 })];
    expect(chooseAgent(['a'], judged, 4, null)?.agentId).toBe('id-Unjudged');
  });
});
