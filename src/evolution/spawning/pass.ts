import { randomUUID } from 'node:crypto';
import { createAgents, takenAgentNames } from '../../../graph/agent.repository.js';
import { releaseAgentWork } from '../../../graph/run.repository.js';
import * as repo from '../../../graph/spawning.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { AgentRole } from '../../domain/agent.js';
import { cleanName, LIMITS } from '../../domain/validate.js';
import { publishTasks } from '../../services/task-events.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_EVOLUTION, type SpawningConfig } from '../config.js';
import type { EvolutionPass } from '../loop.js';
import { firstVersions } from '../versions/lifecycle.js';
import { spawnInstructions } from './instructions.js';

/** Capabilities looked at, and idle agents retired, per tick at most. */
export const SPAWN_PAGE = 20;

/** ACTIVE lessons and skills a spawned agent's instructions carry, at most. */
export const SEEDS = 10;

/**
 * Spawning (issue 12): the organisation adapts its staff. A capability whose steps wait for an
 * agent (more than EVOLUTION_SPAWN_BACKLOG for EVOLUTION_SPAWN_BACKLOG_MS), or that no active
 * agent has while a step waits for it, gets a specialised Master Operator spawned by the
 * tenant's Chief of Staff, seeded with the capability's ACTIVE lessons and skills; at most
 * EVOLUTION_SPAWN_MAX active spawned agents per tenant, one per backlog (cooldown). Spawned
 * agents idle for EVOLUTION_SPAWN_IDLE_TTL_MS retire.
 */
export const spawningPass: EvolutionPass = {
  name: 'spawning',
  async run(ctx, signal) {
    const config = (ctx.config ?? DEFAULT_EVOLUTION).spawning;
    if (!config.enabled) return;
    const needs = await ctx.uow.write(async (tx) => {
      await repo.calmWatches(tx, ctx.tenantIds, config.backlog);
      return repo.spawnNeeds(tx, ctx.tenantIds, config.backlog, SPAWN_PAGE);
    });
    for (const need of needs) {
      if (signal.aborted) return;
      try {
        await spawnFor(ctx.uow, need, config);
      } catch (err) {
        ctx.logger.warn({ err, ...need }, 'an agent could not be spawned for a backlog');
      }
    }
    const idle = await ctx.uow.read((tx) =>
      repo.idleSpawned(tx, ctx.tenantIds, config.idleTtlMs, SPAWN_PAGE),
    );
    for (const agent of idle) {
      if (signal.aborted) return;
      try {
        await retire(ctx.uow, agent, config);
      } catch (err) {
        ctx.logger.warn({ err, ...agent }, 'an idle spawned agent could not be retired');
      }
    }
  },
};

/**
 * At most `max` UTF-16 units, as createAgent would take it: no half a surrogate pair, trimmed,
 * and none of the characters names refuse (a capability a model wrote may hold them).
 */
function clipName(text: string, max: number): string {
  return cleanName(text)
    .slice(0, max)
    .replace(/[\uD800-\uDBFF]$/, '')
    .trimEnd();
}

/**
 * Spawns one Master Operator for the need if, under the tenant's spawn lock, it is still due
 * (lasted long enough, not cooling down, within quota) and a Chief of Staff is there to do it.
 * Returns the new agent's id, or null with nothing written but the watch.
 */
export function spawnFor(
  uow: UnitOfWork,
  need: repo.SpawnNeed,
  config: SpawningConfig,
): Promise<string | null> {
  const { tenantId, capability, waiting, missing } = need;
  return uow.run(async (tx, emit) => {
    const watch = await repo.lockSpawnWatch(tx, {
      tenantId,
      capability,
      missing,
      backlogMs: config.backlogMs,
      cooldownMs: config.cooldownMs,
    });
    if (!watch.due || watch.active >= config.max) return null;
    const chief = await repo.spawningChief(tx, tenantId);
    if (!chief) return null;
    const reason = missing
      ? `no active agent has ${capability}; ${waiting} step(s) wait for it`
      : `${waiting} step(s) needing ${capability} waited for an agent (more than ${config.backlog} for ${config.backlogMs} ms)`;
    const seeds = await repo.seedsFor(tx, tenantId, capability, SEEDS);
    let name = clipName(`${capability} specialist ${watch.spawns + 1}`, LIMITS.name);
    if ((await takenAgentNames(tx, tenantId, [name])).length > 0)
      name = `${clipName(name, LIMITS.name - 9)} ${randomUUID().slice(0, 8)}`;
    const [agent] = await createAgents(tx, tenantId, [
      {
        name,
        description: `Spawned by ${chief.name}: ${reason}`.slice(0, LIMITS.description),
        role: AgentRole.MASTER_OPERATOR,
        model: null,
        systemPrompt: spawnInstructions(capability, reason, seeds).slice(0, LIMITS.systemPrompt),
        capabilities: [{ name: capability, proficiency: 0.7 }],
      },
    ]);
    // Version 1, LIVE, as every agent has (agent versions, issue 12).
    await firstVersions(tx, emit, [agent!], 'PLATFORM');
    await repo.markSpawned(tx, {
      tenantId,
      agentId: agent!.id,
      chiefId: chief.id,
      capability,
      reason,
    });
    emit({
      topic: TOPICS.agentStatusChanged,
      payload: { tenantId, agent: agent!, previousStatus: null },
    });
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId,
        kind: 'AGENT_SPAWNED',
        subjectLabel: 'Agent',
        subjectId: agent!.id,
        summary: `${chief.name} spawned ${agent!.name} (${capability}, ${seeds.length} lesson(s) and skill(s)): ${reason}`,
      },
    });
    return agent!.id;
  });
}

/** Retires one idle spawned agent (inactive, OFFLINE, with the reason) if it still is idle. */
export function retire(
  uow: UnitOfWork,
  a: { tenantId: string; agentId: string },
  config: SpawningConfig,
): Promise<boolean> {
  const reason = `idle: no run for ${config.idleTtlMs} ms (EVOLUTION_SPAWN_IDLE_TTL_MS)`;
  return uow.run(async (tx, emit) => {
    const done = await repo.retireIdle(tx, { ...a, idleTtlMs: config.idleTtlMs, reason });
    if (!done) return false;
    const { before, after } = done;
    // Steps still assigned to it (none ran lately, but some may be queued) go to other agents.
    const released = await releaseAgentWork(
      tx,
      a.tenantId,
      a.agentId,
      `agent ${after.name} retired`,
    );
    await publishTasks(tx, emit, released, 'REASSIGNING');
    emit({
      topic: TOPICS.agentStatusChanged,
      payload: { tenantId: a.tenantId, agent: after, previousStatus: before.status },
    });
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId: a.tenantId,
        kind: 'AGENT_RETIRED',
        subjectLabel: 'Agent',
        subjectId: a.agentId,
        summary: `${after.name} retired: ${reason}`,
      },
    });
    return true;
  });
}
