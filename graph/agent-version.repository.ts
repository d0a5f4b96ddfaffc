import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import {
  VersionOrigin,
  VersionStatus,
  type AgentVersion,
  type Behaviour,
} from '../src/domain/agent-version.js';
import type { Tx } from './cypher.js';
import { byTurns, IN_SCOPE, type TenantScope } from './engine-scope.js';
import { effectiveEvaluation } from './evaluation.repository.js';
import { iso } from './mappers.js';
import type { NodeLike } from './page.js';
import { recordTransition } from './transition.repository.js';
import type { Transition } from '../src/domain/transition.js';
import { lockAndBump } from './locks.js';

/*
 * Agent versions (issue 12): (:Agent)-[:HAS_VERSION]->(:AgentVersion)-[:EVOLVED_FROM]->(parent),
 * (:Run)-[:USED_VERSION]->(:AgentVersion). The Agent node mirrors its LIVE version's behaviour
 * (systemPrompt, model, temperature, tools, lessonBudget) and number (Agent.version).
 */

export interface NewVersion extends Behaviour {
  agentId: string;
  status: VersionStatus;
  origin: VersionOrigin;
  reason: string;
  canaryShare: number;
  parentId: string | null;
}

/** A version bound to `v` and its parent's id, read by toVersion. */
export const RETURN_VERSION = `v, [(v)-[:EVOLVED_FROM]->(p:AgentVersion) | p.id][0] AS parentId`;

/**
 * Creates the agent's next version (its number one above the highest it has), EVOLVED_FROM
 * `parentId` when given. The caller holds the agent's lock (lockAgent), so numbers are unique.
 * Null when the agent is not the tenant's.
 */
export async function createVersion(
  tx: Tx,
  tenantId: string,
  v: NewVersion,
): Promise<AgentVersion | null> {
  const [row] = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, id: $v.agentId}) USING INDEX SEEK a:Agent(id)
      WITH a, COLLECT { MATCH (a)-[:HAS_VERSION]->(o:AgentVersion) RETURN max(o.version) }[0] AS top
      CREATE (v:AgentVersion {id: $id, tenantId: $tenantId, agentId: a.id,
                              version: coalesce(top, 0) + 1, systemPrompt: $v.systemPrompt,
                              model: $v.model, temperature: $v.temperature, tools: $v.tools,
                              lessonBudget: $v.lessonBudget, status: $v.status, origin: $v.origin,
                              reason: $v.reason, canaryShare: $v.canaryShare,
                              createdAt: datetime(), updatedAt: datetime()})
      CREATE (a)-[:HAS_VERSION]->(v)
      WITH v
      OPTIONAL MATCH (p:AgentVersion {tenantId: $tenantId, id: $v.parentId})
      USING INDEX SEEK p:AgentVersion(id)
      FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END |
        CREATE (v)-[:EVOLVED_FROM {at: datetime()}]->(p))
      RETURN ${RETURN_VERSION}`,
    params: {
      tenantId,
      id: randomUUID(),
      v: { ...v, lessonBudget: v.lessonBudget === null ? null : neo4j.int(v.lessonBudget) },
    },
  });
  return row ? toVersion(row.v, row.parentId) : null;
}

/** Makes the Agent node mirror `version` (it became LIVE): behaviour fields and number. */
export async function mirrorLive(tx: Tx, tenantId: string, version: AgentVersion): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK a:Agent(id)
      SET a.systemPrompt = $systemPrompt, a.model = $model, a.temperature = $temperature,
          a.tools = $tools, a.lessonBudget = $lessonBudget, a.version = $version,
          a.updatedAt = datetime()`,
    params: {
      tenantId,
      agentId: version.agentId,
      systemPrompt: version.systemPrompt,
      model: version.model,
      temperature: version.temperature,
      tools: version.tools,
      lessonBudget: version.lessonBudget === null ? null : neo4j.int(version.lessonBudget),
      version: neo4j.int(version.version),
    },
  });
}

/**
 * Moves a version from `from` to `to`, only if it is still in `from` (checked again under its
 * write lock, so two processes cannot both decide), and records the transition. Null when the
 * version is unknown, another tenant's, or no longer in `from`.
 */
export async function moveVersion(
  tx: Tx,
  o: {
    tenantId: string;
    versionId: string;
    from: VersionStatus;
    to: VersionStatus;
    reason: string;
    actor: string;
  },
): Promise<AgentVersion | null> {
  const [row] = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `
      MATCH (v:AgentVersion {tenantId: $tenantId, id: $versionId})
      USING INDEX SEEK v:AgentVersion(id)
      SET v.updatedAt = datetime()
      WITH v WHERE v.status = $from
      SET v.status = $to, v.canaryShare = CASE WHEN $to = 'CANDIDATE' THEN v.canaryShare ELSE 0.0 END
      RETURN ${RETURN_VERSION}`,
    params: o,
  });
  if (!row) return null;
  await recordTransition(tx, {
    tenantId: o.tenantId,
    subjectLabel: 'AgentVersion',
    subjectId: o.versionId,
    from: o.from,
    to: o.to,
    reason: o.reason,
    actor: o.actor,
  });
  return toVersion(row.v, row.parentId);
}

/** One version of the tenant; null when unknown or another tenant's. */
export async function versionById(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<AgentVersion | null> {
  const [row] = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `MATCH (v:AgentVersion {tenantId: $tenantId, id: $id})
      USING INDEX SEEK v:AgentVersion(id) RETURN ${RETURN_VERSION}`,
    params: { tenantId, id },
  });
  return row ? toVersion(row.v, row.parentId) : null;
}

/** The agents' versions in `statuses`, any order (`v` unlabeled: see scopedTasks in engine-scope.ts). */
export async function versionsOfAgents(
  tx: Tx,
  tenantId: string,
  agentIds: readonly string[],
  statuses: readonly VersionStatus[],
): Promise<AgentVersion[]> {
  const rows = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `
      UNWIND $agentIds AS agentId
      MATCH (a:Agent {tenantId: $tenantId, id: agentId})-[:HAS_VERSION]->(v)
      USING INDEX SEEK a:Agent(id)
      WHERE v.status IN $statuses
      RETURN ${RETURN_VERSION}`,
    params: { tenantId, agentIds, statuses },
  });
  return rows.map((r) => toVersion(r.v, r.parentId));
}

/**
 * Gives every agent in `agentIds` without a LIVE version one, from its current fields (agents
 * from before versions, or imported ones): number one above its highest version (1 for none),
 * EVOLVED_FROM that highest one. The agent's write lock makes it once across processes.
 */
export async function ensureLiveVersions(
  tx: Tx,
  tenantId: string,
  agentIds: readonly string[],
): Promise<AgentVersion[]> {
  const rows = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `
      UNWIND $agentIds AS agentId
      MATCH (a:Agent {tenantId: $tenantId, id: agentId}) USING INDEX SEEK a:Agent(id)
      WHERE NOT EXISTS { (a)-[:HAS_VERSION]->({status: 'LIVE'}) }
      ${lockAndBump('a', 'Agent', 'writeLock')}
      WITH a WHERE NOT EXISTS { (a)-[:HAS_VERSION]->({status: 'LIVE'}) }
      WITH a, COLLECT { MATCH (a)-[:HAS_VERSION]->(o:AgentVersion)
                        RETURN o ORDER BY o.version DESC LIMIT 1 }[0] AS top
      CREATE (v:AgentVersion {id: randomUUID(), tenantId: $tenantId, agentId: a.id,
                              version: coalesce(top.version, 0) + 1, systemPrompt: a.systemPrompt,
                              model: a.model, temperature: a.temperature,
                              tools: coalesce(a.tools, []), lessonBudget: a.lessonBudget,
                              status: 'LIVE', origin: 'PERSON', canaryShare: 0.0,
                              reason: 'the agent as it was when versions began',
                              createdAt: datetime(), updatedAt: datetime()})
      CREATE (a)-[:HAS_VERSION]->(v)
      SET a.version = v.version
      FOREACH (_ IN CASE WHEN top IS NULL THEN [] ELSE [1] END |
        CREATE (v)-[:EVOLVED_FROM {at: datetime()}]->(top))
      RETURN ${RETURN_VERSION}`,
    params: { tenantId, agentIds },
  });
  const created = rows.map((r) => toVersion(r.v, r.parentId));
  for (const v of created) {
    await recordTransition(tx, {
      tenantId,
      subjectLabel: 'AgentVersion',
      subjectId: v.id,
      from: null,
      to: VersionStatus.LIVE,
      reason: v.reason,
      actor: 'PLATFORM',
    });
  }
  return created;
}

/** A version with its record: runs that used it, and their mean effective score. */
export interface VersionRecord {
  version: AgentVersion;
  runs: number;
  evaluatedRuns: number;
  meanScore: number | null;
  /** Its changes of state, oldest first. */
  transitions: Transition[];
}

/**
 * Versions with their record (runs, mean effective score, transitions), in one statement:
 * an agent's (`agentId`), newest first, or the versions with `versionIds`, any order.
 */
export async function versionRecords(
  tx: Tx,
  tenantId: string,
  which: { agentId: string } | { versionIds: readonly string[] },
): Promise<VersionRecord[]> {
  const match =
    'agentId' in which
      ? `MATCH (a:Agent {tenantId: $tenantId, id: $agentId})-[:HAS_VERSION]->(v:AgentVersion)
         USING INDEX SEEK a:Agent(id)`
      : `UNWIND $versionIds AS id MATCH (v:AgentVersion {tenantId: $tenantId, id: id})
         USING INDEX SEEK v:AgentVersion(id)`;
  const rows = await tx.run<{
    v: NodeLike;
    parentId: string | null;
    runs: number;
    evaluated: number;
    mean: number | null;
    transitions: (Omit<Transition, 'at'> & { at: unknown })[];
  }>({
    cypher: `
      ${match}
      CALL (v) {
        MATCH (r:Run)-[:USED_VERSION]->(v)
        CALL (r) { ${effectiveEvaluation('r')} }
        RETURN count(r) AS runs, count(score) AS evaluated, avg(score) AS mean
      }
      RETURN ${RETURN_VERSION}, runs, evaluated, mean,
             COLLECT { MATCH (x:Transition {tenantId: $tenantId, subjectId: v.id})
                       WITH x ORDER BY x.at, x.id
                       RETURN x {.id, .tenantId, .subjectLabel, .subjectId, .from, .to, .reason,
                                 .actor, .at} } AS transitions
      ORDER BY v.version DESC`,
    params: {
      tenantId,
      agentId: 'agentId' in which ? which.agentId : null,
      versionIds: 'versionIds' in which ? which.versionIds : [],
    },
  });
  return rows.map((r) => ({
    version: toVersion(r.v, r.parentId),
    runs: r.runs,
    evaluatedRuns: r.evaluated,
    meanScore: r.mean,
    transitions: r.transitions.map((t) => ({ ...t, at: iso(t.at) })),
  }));
}

/**
 * CANDIDATE versions to decide in the tenants a process serves: each tenant's oldest first, by
 * turns between tenants (a canary waits for evidence, so one tenant's page of undecided ones
 * kept every other tenant's off every page).
 */
export async function candidatesToDecide(
  tx: Tx,
  tenants: TenantScope,
  limit: number,
): Promise<AgentVersion[]> {
  const rows = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `
      MATCH (v:AgentVersion {status: 'CANDIDATE'})
      WHERE ${IN_SCOPE('v')}
      ${byTurns('v', 'v.createdAt, v.id', '$limit')}
      RETURN ${RETURN_VERSION}`,
    params: { tenants, limit: neo4j.int(limit) },
  });
  return rows.map((r) => toVersion(r.v, r.parentId));
}

/**
 * The effective scores of the version's evaluated runs started at or after `since` (all when
 * null), newest first, at most `limit`.
 */
export async function versionScores(
  tx: Tx,
  tenantId: string,
  versionId: string,
  since: string | null,
  limit = 1000,
): Promise<number[]> {
  const rows = await tx.run<{ score: number }>({
    cypher: `
      MATCH (r:Run)-[:USED_VERSION]->(v:AgentVersion {tenantId: $tenantId, id: $versionId})
      USING INDEX SEEK v:AgentVersion(id)
      WHERE $since IS NULL OR r.startedAt >= datetime($since)
      CALL (r) { ${effectiveEvaluation('r')} }
      WITH r, score WHERE score IS NOT NULL
      RETURN score ORDER BY r.startedAt DESC LIMIT $limit`,
    params: { tenantId, versionId, since, limit: neo4j.int(limit) },
  });
  return rows.map((r) => r.score);
}

export function toVersion(node: NodeLike, parentId: string | null): AgentVersion {
  const p = node.properties as Record<string, unknown>;
  const int = (x: unknown) => (x == null ? null : Number(x));
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    agentId: String(p.agentId ?? ''),
    version: Number(p.version),
    systemPrompt: (p.systemPrompt as string | null) ?? null,
    model: (p.model as string | null) ?? null,
    temperature: typeof p.temperature === 'number' ? p.temperature : null,
    tools: Array.isArray(p.tools) ? (p.tools as unknown[]).map(String) : [],
    lessonBudget: int(p.lessonBudget),
    // Versions written before statuses (an old import) read as RETIRED: history, never run.
    status: Object.values(VersionStatus).includes(p.status as VersionStatus)
      ? (p.status as VersionStatus)
      : VersionStatus.RETIRED,
    origin: p.origin === 'PLATFORM' ? VersionOrigin.PLATFORM : VersionOrigin.PERSON,
    reason: String(p.reason ?? ''),
    canaryShare: typeof p.canaryShare === 'number' ? p.canaryShare : 0,
    parentId,
    createdAt: iso(p.createdAt),
  };
}
