import neo4j from 'neo4j-driver';
import type { Agent } from '../src/domain/agent.js';
import type { Tx } from './cypher.js';
import { byTurns, IN_SCOPE, scopedTasks, type TenantScope } from './engine-scope.js';
import { iso, toAgent } from './mappers.js';
import type { NodeLike } from './page.js';

/*
 * Spawning (issue 12): `(:Agent {spawned: true})-[:SPAWNED_BY {reason, at}]->(chief)`, and one
 * `(:SpawnWatch {tenantId, capability, since, lastSpawnAt, spawns})` per capability that had a
 * backlog: when it began, when an agent was last spawned for it. `capability: '*'` is the
 * tenant's own watch, locked by every spawn so the quota is counted by one process at a time.
 */

/** Of READY steps `t`, those waiting for an agent (given back with a waiting reason). */
const WAITING = 't.orchestrated = true AND t.waitingReason IS NOT NULL';

/** A capability of a tenant that may need an agent. */
export interface SpawnNeed {
  tenantId: string;
  capability: string;
  /** Steps requiring it that wait for an agent. */
  waiting: number;
  /** No active agent of the tenant has it. */
  missing: boolean;
}

/**
 * Capabilities whose waiting steps are more than `backlog`, or that no active agent has while
 * a step waits for it; at most `limit`, each tenant's most waiting first, by turns between
 * tenants (a tenant at its quota keeps its backlogs: they must not fill every page).
 */
export async function spawnNeeds(
  tx: Tx,
  tenants: TenantScope,
  backlog: number,
  limit: number,
): Promise<SpawnNeed[]> {
  return tx.run<SpawnNeed & Record<string, unknown>>({
    cypher: `
      ${scopedTasks('t', ['READY'], tenants)} AND ${WAITING}
      MATCH (t)-[:REQUIRES]->(c) WHERE c.tenantId = t.tenantId
      WITH t.tenantId AS tenantId, c, count(t) AS waiting
      WITH tenantId, c, waiting,
           NOT EXISTS { (a:Agent {tenantId: tenantId, active: true})-[:HAS_CAPABILITY]->(c) } AS missing
      WHERE missing OR waiting > $backlog
      WITH {tenantId: tenantId, capability: c.name, waiting: waiting, missing: missing} AS need
      ${byTurns('need', 'need.waiting DESC, need.capability', '$limit')}
      RETURN need.tenantId AS tenantId, need.capability AS capability, need.waiting AS waiting,
             need.missing AS missing
      ORDER BY turn, waiting DESC, capability`,
    params: { tenants, backlog: neo4j.int(backlog), limit: neo4j.int(limit) },
  });
}

/**
 * Forgets the start of backlogs that have ended (no more than `backlog` steps waiting, and the
 * capability has an active agent): a backlog must last `backlogMs` in one stretch.
 */
export async function calmWatches(tx: Tx, tenants: TenantScope, backlog: number): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (w:SpawnWatch) WHERE ${IN_SCOPE('w')} AND w.since IS NOT NULL AND w.capability <> '*'
      WITH w, COUNT { MATCH (t:Task {status: 'READY'}) WHERE ${WAITING} AND t.tenantId = w.tenantId
                      AND EXISTS { (t)-[:REQUIRES]->(:Capability {tenantId: w.tenantId, name: w.capability}) } } AS waiting
      WHERE waiting <= $backlog AND (waiting = 0 OR EXISTS {
        (:Agent {tenantId: w.tenantId, active: true})-[:HAS_CAPABILITY]->(:Capability {tenantId: w.tenantId, name: w.capability}) })
      SET w.since = null`,
    params: { tenants, backlog: neo4j.int(backlog) },
  });
}

/**
 * Takes the tenant's spawn lock, then the capability's watch (made and started now when new),
 * and says whether a spawn is due: the backlog began `backlogMs` ago or more (or `missing`),
 * no spawn for the capability within `cooldownMs`, and fewer than `max` active spawned agents.
 * Everything is read under the locks, so two processes cannot both find it due.
 */
export async function lockSpawnWatch(
  tx: Tx,
  w: {
    tenantId: string;
    capability: string;
    missing: boolean;
    backlogMs: number;
    cooldownMs: number;
  },
): Promise<{ due: boolean; why: string; spawns: number; active: number }> {
  await tx.run({
    cypher: `
      MERGE (q:SpawnWatch {tenantId: $tenantId, capability: '*'})
        ON CREATE SET q.id = randomUUID(), q.createdAt = datetime()
      SET q.lockedAt = datetime()`,
    params: { tenantId: w.tenantId },
  });
  const [row] = await tx.run<{
    since: unknown;
    due: boolean;
    cooling: boolean;
    spawns: number;
    active: number;
  }>({
    cypher: `
      MERGE (w:SpawnWatch {tenantId: $tenantId, capability: $capability})
        ON CREATE SET w.id = randomUUID(), w.createdAt = datetime(), w.spawns = 0
      SET w.since = coalesce(w.since, datetime()), w.checkedAt = datetime()
      RETURN w.since AS since, coalesce(w.spawns, 0) AS spawns,
        ($missing OR w.since <= datetime() - duration({milliseconds: $backlogMs})) AS due,
        (w.lastSpawnAt IS NOT NULL
          AND w.lastSpawnAt > datetime() - duration({milliseconds: $cooldownMs})) AS cooling,
        COUNT { (a:Agent {tenantId: $tenantId, spawned: true, active: true}) } AS active`,
    params: {
      ...w,
      backlogMs: neo4j.int(w.backlogMs),
      cooldownMs: neo4j.int(w.cooldownMs),
    },
  });
  const why = !row!.due
    ? `the backlog began at ${iso(row!.since)}, too recently`
    : row!.cooling
      ? 'an agent was spawned for it within the cooldown'
      : '';
  return { due: row!.due && !row!.cooling, why, spawns: row!.spawns, active: row!.active };
}

/** The tenant's Chief of Staff that spawns: the oldest active one; null when none. */
export async function spawningChief(tx: Tx, tenantId: string): Promise<Agent | null> {
  const [row] = await tx.run<{ a: NodeLike }>({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, role: 'CHIEF_OF_STAFF', active: true})
      RETURN a ORDER BY a.createdAt, a.id LIMIT 1`,
    params: { tenantId },
  });
  return row ? toAgent(row.a) : null;
}

/** The capability's ACTIVE lessons and skills, strongest first: what a spawned agent starts with. */
export async function seedsFor(
  tx: Tx,
  tenantId: string,
  capability: string,
  limit: number,
): Promise<{ id: string; kind: string; content: string }[]> {
  return tx.run({
    cypher: `
      MATCH (k:Knowledge {tenantId: $tenantId, status: 'ACTIVE'})
      WHERE (k.kind = 'LESSON' AND k.capability = $capability)
         OR (k.kind = 'SKILL' AND $capability IN coalesce(k.capabilities, []))
      RETURN k.id AS id, k.kind AS kind, k.content AS content
      ORDER BY k.kind, coalesce(k.strength, 0) DESC, k.createdAt, k.id
      LIMIT $limit`,
    params: { tenantId, capability, limit: neo4j.int(limit) },
  });
}

/**
 * Marks a new agent spawned by the chief: `spawned: true`, SPAWNED_BY {reason, at}, and the
 * watch's last spawn (its backlog is answered: a new one must begin again).
 */
export async function markSpawned(
  tx: Tx,
  s: { tenantId: string; agentId: string; chiefId: string; capability: string; reason: string },
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, id: $agentId}), (cos:Agent {tenantId: $tenantId, id: $chiefId})
      USING INDEX SEEK a:Agent(id) USING INDEX SEEK cos:Agent(id)
      MATCH (w:SpawnWatch {tenantId: $tenantId, capability: $capability})
      USING INDEX SEEK w:SpawnWatch(tenantId, capability)
      SET a.spawned = true, w.lastSpawnAt = datetime(), w.since = null,
          w.spawns = coalesce(w.spawns, 0) + 1
      MERGE (a)-[s:SPAWNED_BY]->(cos)
        ON CREATE SET s.reason = $reason, s.at = datetime()`,
    params: s,
  });
}

/**
 * Agent `a` ran nothing for `$idleTtlMs`: no run of it still RUNNING (a step longer than the
 * idle time was retired in its middle) and none started or ended since.
 */
const IDLE = (a: string) => `NOT EXISTS { (r:Run)-[:BY]->(${a})
          WHERE r.status = 'RUNNING'
             OR coalesce(r.endedAt, r.startedAt) > datetime() - duration({milliseconds: $idleTtlMs}) }`;

/**
 * Active spawned agents IDLE for `idleTtlMs` (nor made within it), from their
 * own index: without it, each evolution tick scanned every agent of every tenant.
 */
export async function idleSpawned(
  tx: Tx,
  tenants: TenantScope,
  idleTtlMs: number,
  limit: number,
): Promise<{ tenantId: string; agentId: string }[]> {
  return tx.run({
    cypher: `
      MATCH (a:Agent) USING INDEX SEEK a:Agent(spawned, active, createdAt)
      WHERE a.spawned = true AND a.active = true AND ${IN_SCOPE('a')}
        AND a.createdAt <= datetime() - duration({milliseconds: $idleTtlMs})
        AND ${IDLE('a')}
      RETURN a.tenantId AS tenantId, a.id AS agentId
      ORDER BY a.createdAt, a.id LIMIT $limit`,
    params: { tenants, idleTtlMs: neo4j.int(idleTtlMs), limit: neo4j.int(limit) },
  });
}

/**
 * Retires a spawned agent if it is still active and idle, read under its lock: inactive,
 * OFFLINE, with the reason and time. Returns it as it was and as it is; null when it was not.
 */
export async function retireIdle(
  tx: Tx,
  r: { tenantId: string; agentId: string; idleTtlMs: number; reason: string },
): Promise<{ before: Agent; after: Agent } | null> {
  const [row] = await tx.run<{ before: NodeLike; after: NodeLike }>({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, id: $agentId, spawned: true})
      USING INDEX SEEK a:Agent(id)
      SET a.retireCheckedAt = datetime()
      WITH a, a {.*} AS before
      WHERE a.active = true
        AND a.createdAt <= datetime() - duration({milliseconds: $idleTtlMs})
        AND ${IDLE('a')}
      SET a.active = false, a.status = 'OFFLINE', a.retiredReason = $reason,
          a.retiredAt = datetime(), a.updatedAt = datetime()
      RETURN {properties: before} AS before, a AS after`,
    params: { ...r, idleTtlMs: neo4j.int(r.idleTtlMs) },
  });
  return row ? { before: toAgent(row.before), after: toAgent(row.after) } : null;
}

/** Where each agent came from, for Agent.spawnedBy: one entry per spawned agent given. */
export async function spawnOrigins(
  tx: Tx,
  tenantId: string,
  agentIds: readonly string[],
): Promise<
  Map<
    string,
    {
      chief: Agent;
      reason: string;
      at: string;
      retiredReason: string | null;
      retiredAt: string | null;
    }
  >
> {
  const rows = await tx.run<{
    id: string;
    cos: NodeLike;
    reason: string;
    at: unknown;
    retiredReason: string | null;
    retiredAt: unknown;
  }>({
    cypher: `
      UNWIND $agentIds AS id
      MATCH (a:Agent {tenantId: $tenantId, id: id})-[s:SPAWNED_BY]->(cos:Agent) USING INDEX SEEK a:Agent(id)
      WHERE cos.tenantId = $tenantId
      RETURN id, cos, s.reason AS reason, s.at AS at, a.retiredReason AS retiredReason,
             a.retiredAt AS retiredAt`,
    params: { tenantId, agentIds },
  });
  return new Map(
    rows.map((r) => [
      r.id,
      {
        chief: toAgent(r.cos),
        reason: r.reason,
        at: iso(r.at),
        retiredReason: r.retiredReason ?? null,
        retiredAt: r.retiredAt ? iso(r.retiredAt) : null,
      },
    ]),
  );
}
