import {
  createVersion,
  ensureLiveVersions,
  mirrorLive,
  moveVersion,
  versionById,
  versionsOfAgents,
} from '../../../graph/agent-version.repository.js';
import { recordTransition } from '../../../graph/transition.repository.js';
import { lockAgent } from '../../../graph/agent.repository.js';
import type { Tx } from '../../../graph/cypher.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import type { Agent } from '../../domain/agent.js';
import {
  BEHAVIOUR_FIELDS,
  changesBehaviour,
  VersionOrigin,
  VersionStatus,
  type AgentVersion,
  type Behaviour,
} from '../../domain/agent-version.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { Emit } from '../../services/unit-of-work.js';

/*
 * Every change of state of an agent version (issue 12), inside the caller's transaction:
 * a transition recorded with its reason and actor, and a VERSION_CHANGED event after commit.
 */

/** Announces a version's change of state on TOPICS.evolution (after commit). */
export function announce(emit: Emit, v: AgentVersion, from: VersionStatus | null, why: string) {
  emit({
    topic: TOPICS.evolution,
    payload: {
      tenantId: v.tenantId,
      kind: 'VERSION_CHANGED',
      subjectLabel: 'AgentVersion',
      subjectId: v.id,
      summary: `version ${v.version} of agent ${v.agentId}: ${from ?? 'new'} -> ${v.status} (${why})`,
    },
  });
}

async function created(tx: Tx, emit: Emit, v: AgentVersion, actor: string): Promise<void> {
  await recordTransition(tx, {
    tenantId: v.tenantId,
    subjectLabel: 'AgentVersion',
    subjectId: v.id,
    from: null,
    to: v.status,
    reason: v.reason,
    actor,
  });
  announce(emit, v, null, v.reason);
}

/** Version 1 (LIVE, by a person) of each new agent, from the fields it was created with. */
export async function firstVersions(
  tx: Tx,
  emit: Emit,
  agents: readonly Agent[],
  actor: string,
): Promise<void> {
  for (const agent of agents) {
    const v = await createVersion(tx, agent.tenantId, {
      agentId: agent.id,
      ...behaviourOf(agent),
      status: VersionStatus.LIVE,
      origin: VersionOrigin.PERSON,
      reason: 'created',
      canaryShare: 0,
      parentId: null,
    });
    if (v) await created(tx, emit, v, actor);
  }
}

/** The agent's LIVE version, made from its fields first when it has none (older agents). */
export async function liveVersionOf(
  tx: Tx,
  emit: Emit | null,
  tenantId: string,
  agentId: string,
): Promise<AgentVersion | null> {
  const made = await ensureLiveVersions(tx, tenantId, [agentId]);
  for (const v of made) emit && announce(emit, v, null, v.reason);
  const [live] = await versionsOfAgents(tx, tenantId, [agentId], [VersionStatus.LIVE]);
  return live ?? null;
}

/**
 * A person changed the agent's behaviour: a new LIVE version EVOLVED_FROM the old one (RETIRED);
 * a candidate in its canary is rolled back (it was built on the old one). Nothing when `patch`
 * changes no behaviour field. The caller holds the agent's lock.
 */
export async function changeBehaviour(
  tx: Tx,
  emit: Emit,
  tenantId: string,
  agentId: string,
  patch: Partial<Behaviour>,
  actor: string,
): Promise<AgentVersion | null> {
  const live = await liveVersionOf(tx, emit, tenantId, agentId);
  if (!live || !changesBehaviour(live, patch)) return null;
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const fields = BEHAVIOUR_FIELDS.filter((f) => changesBehaviour(live, { [f]: patch[f] })).join(
    ', ',
  );
  const next = await createVersion(tx, tenantId, {
    agentId,
    ...behaviourOf(live),
    ...defined,
    status: VersionStatus.LIVE,
    origin: VersionOrigin.PERSON,
    reason: `changed by ${actor}: ${fields}`,
    canaryShare: 0,
    parentId: live.id,
  });
  if (!next) return null;
  await retire(tx, emit, live, `replaced by version ${next.version}`, actor);
  const [candidate] = await versionsOfAgents(tx, tenantId, [agentId], [VersionStatus.CANDIDATE]);
  if (candidate) {
    const why = `the live version was changed by hand (version ${next.version})`;
    await move(tx, emit, candidate, VersionStatus.ROLLED_BACK, why, actor);
  }
  await created(tx, emit, next, actor);
  await mirrorLive(tx, tenantId, next);
  return next;
}

/** Saves a proposal as the agent's CANDIDATE; CONFLICT when it already has one. */
export async function addCandidate(
  tx: Tx,
  emit: Emit,
  o: {
    tenantId: string;
    live: AgentVersion;
    systemPrompt: string;
    reason: string;
    canaryShare: number;
    actor: string;
  },
): Promise<AgentVersion> {
  await assertNoCandidate(tx, o.tenantId, o.live.agentId);
  const v = await createVersion(tx, o.tenantId, {
    agentId: o.live.agentId,
    ...behaviourOf(o.live),
    systemPrompt: o.systemPrompt,
    status: VersionStatus.CANDIDATE,
    origin: VersionOrigin.PLATFORM,
    reason: o.reason,
    canaryShare: o.canaryShare,
    parentId: o.live.id,
  });
  if (!v) throw new NotFoundError('Agent', o.live.agentId);
  await created(tx, emit, v, o.actor);
  return v;
}

export async function assertNoCandidate(tx: Tx, tenantId: string, agentId: string) {
  const [candidate] = await versionsOfAgents(tx, tenantId, [agentId], [VersionStatus.CANDIDATE]);
  if (candidate) {
    throw new ConflictError(
      `Agent ${agentId} already has a candidate version (version ${candidate.version}, ${candidate.id}): promote or roll it back first`,
      { versionId: candidate.id },
    );
  }
}

/**
 * The candidate becomes LIVE and the live version RETIRED; the agent mirrors it. Null when the
 * version is no longer a CANDIDATE (another process or person decided first).
 */
export async function promote(
  tx: Tx,
  emit: Emit,
  candidate: AgentVersion,
  reason: string,
  actor: string,
): Promise<AgentVersion | null> {
  // The agent's lock: a person's updateAgent cannot make a LIVE version at the same moment.
  await lockAgent(tx, candidate.tenantId, candidate.agentId);
  const live = await liveVersionOf(tx, emit, candidate.tenantId, candidate.agentId);
  const promoted = await move(tx, emit, candidate, VersionStatus.LIVE, reason, actor);
  if (!promoted) return null;
  if (live) await retire(tx, emit, live, `replaced by version ${promoted.version}`, actor);
  await mirrorLive(tx, candidate.tenantId, promoted);
  return promoted;
}

/** The candidate is ROLLED_BACK (it never runs again); null when no longer a CANDIDATE. */
export function rollBack(
  tx: Tx,
  emit: Emit,
  candidate: AgentVersion,
  reason: string,
  actor: string,
): Promise<AgentVersion | null> {
  return move(tx, emit, candidate, VersionStatus.ROLLED_BACK, reason, actor);
}

/**
 * Rolls a LIVE version back by hand: it becomes ROLLED_BACK and its parent's behaviour comes
 * back as a new LIVE version (history only grows); a candidate in its canary is rolled back
 * too. CONFLICT for a first version (nothing to go back to).
 */
export async function rollBackLive(
  tx: Tx,
  emit: Emit,
  live: AgentVersion,
  reason: string,
  actor: string,
): Promise<AgentVersion> {
  await lockAgent(tx, live.tenantId, live.agentId);
  const parent = live.parentId ? await versionById(tx, live.tenantId, live.parentId) : null;
  if (!parent) {
    throw new ConflictError(
      `Version ${live.version} (${live.id}) is the agent's first: there is no earlier version to roll back to; change the agent with updateAgent instead`,
    );
  }
  const next = await createVersion(tx, live.tenantId, {
    agentId: live.agentId,
    ...behaviourOf(parent),
    status: VersionStatus.LIVE,
    origin: VersionOrigin.PERSON,
    reason: `back to version ${parent.version} (rollback of version ${live.version}): ${reason}`,
    canaryShare: 0,
    parentId: parent.id,
  });
  const moved = await move(tx, emit, live, VersionStatus.ROLLED_BACK, reason, actor);
  if (!next || !moved)
    throw new ConflictError(`Version ${live.version} (${live.id}) changed meanwhile: try again`);
  const [candidate] = await versionsOfAgents(
    tx,
    live.tenantId,
    [live.agentId],
    [VersionStatus.CANDIDATE],
  );
  if (candidate) {
    await move(
      tx,
      emit,
      candidate,
      VersionStatus.ROLLED_BACK,
      `its parent version ${live.version} was rolled back`,
      actor,
    );
  }
  await created(tx, emit, next, actor);
  await mirrorLive(tx, live.tenantId, next);
  return moved;
}

/** A version of the tenant, or NOT_FOUND alike for unknown and foreign ids. */
export async function versionOrThrow(tx: Tx, tenantId: string, id: string) {
  const v = await versionById(tx, tenantId, id);
  if (!v) throw new NotFoundError('AgentVersion', id);
  return v;
}

async function retire(tx: Tx, emit: Emit, live: AgentVersion, why: string, actor: string) {
  await move(tx, emit, live, VersionStatus.RETIRED, why, actor);
}

async function move(
  tx: Tx,
  emit: Emit,
  v: AgentVersion,
  to: VersionStatus,
  reason: string,
  actor: string,
): Promise<AgentVersion | null> {
  const moved = await moveVersion(tx, {
    tenantId: v.tenantId,
    versionId: v.id,
    from: v.status,
    to,
    reason,
    actor,
  });
  if (moved) announce(emit, moved, v.status, reason);
  return moved;
}

function behaviourOf(x: Partial<Behaviour>): Behaviour {
  return {
    systemPrompt: x.systemPrompt ?? null,
    model: x.model ?? null,
    temperature: x.temperature ?? null,
    tools: x.tools ?? [],
    lessonBudget: x.lessonBudget ?? null,
  };
}
