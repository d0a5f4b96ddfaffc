import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import {
  canaryPoint,
  VersionOrigin,
  VersionStatus,
  type AgentVersion,
  type Behaviour,
} from '../src/domain/agent-version.js';
import type { Tx } from './cypher.js';
import { IN_SCOPE, type TenantScope } from './engine-scope.js';
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

const RETURN_VERSION = `v, [(v)-[:EVOLVED_FROM]->(p:AgentVersion) | p.id][0] AS parentId`;

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
      MATCH (a:Agent {tenantId: $tenantId, id: $v.agentId})
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
      MATCH (a:Agent {tenantId: $tenantId, id: $agentId})
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
    cypher: `MATCH (v:AgentVersion {tenantId: $tenantId, id: $id}) RETURN ${RETURN_VERSION}`,
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
      MATCH (:Agent {tenantId: $tenantId, id: agentId})-[:HAS_VERSION]->(v)
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

/**
 * Which version each claimed run uses, recorded as (:Run)-[:USED_VERSION]->(:AgentVersion):
 * the agent's CANDIDATE when the run's canary point falls below its share, else its LIVE one
 * (made first for agents without one: `created`). One statement when every agent has its LIVE
 * version, as agents made since versions began do (test/engine-round-trips): a claim made,
 * read and recorded them in three. Choosing again for the same runs gives the same versions.
 */
export async function useVersions(
  tx: Tx,
  runs: readonly { runId: string; agentId: string; tenantId: string }[],
): Promise<{ byRun: Map<string, AgentVersion>; created: AgentVersion[] }> {
  const byRun = await recordUsedVersions(tx, runs);
  const created: AgentVersion[] = [];
  const missing = runs.filter((r) => !byRun.has(r.runId));
  for (const tenantId of new Set(missing.map((r) => r.tenantId))) {
    const agentIds = [
      ...new Set(missing.filter((r) => r.tenantId === tenantId).map((r) => r.agentId)),
    ];
    created.push(...(await ensureLiveVersions(tx, tenantId, agentIds)));
  }
  if (created.length > 0) {
    for (const [runId, v] of await recordUsedVersions(tx, missing)) byRun.set(runId, v);
  }
  return { byRun, created };
}

/**
 * useVersions for the runs whose agent has a LIVE version; the others are left out. It starts
 * from the runs and agents it is given: with the versions' label, a plan made on a near-empty
 * database started from the status index and read every tenant's LIVE versions (plan-audit,
 * round 40 of 2026-12-02).
 */
async function recordUsedVersions(
  tx: Tx,
  runs: readonly { runId: string; agentId: string; tenantId: string }[],
): Promise<Map<string, AgentVersion>> {
  if (runs.length === 0) return new Map();
  const rows = await tx.run<{ runId: string } & UsedVersionRow>({
    cypher: `
      UNWIND $runs AS run
      MATCH (r:Run {id: run.runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = run.tenantId
      MATCH (a:Agent {id: run.agentId}) USING INDEX SEEK a:Agent(id)
      WHERE a.tenantId = run.tenantId
      ${useVersionOf('r', 'a', 'run.point', 'run')}
      RETURN run.runId AS runId, ${RETURN_VERSION}`,
    params: { runs: runs.map((r) => ({ ...r, point: canaryPoint(r.runId) })) },
  });
  return new Map(rows.flatMap((r) => (r.v ? [[r.runId, usedVersion(r)!]] : [])));
}

/**
 * Cypher that chooses the version run `r` of agent `a` uses, as useVersions says, records it
 * (USED_VERSION) and binds it to `v`: null when the agent has no LIVE version yet (useVersions
 * makes one). `point` is the run's canaryPoint; the variables in `keep` stay in scope (with
 * `r` and `v`). For startRuns too, which records the versions with the runs it starts.
 */
export function useVersionOf(r: string, a: string, point: string, keep: string): string {
  return `OPTIONAL MATCH (${a})-[:HAS_VERSION]->(live {status: 'LIVE'})
      WITH ${r}, ${keep}, live,
           COLLECT { MATCH (${a})-[:HAS_VERSION]->(c {status: 'CANDIDATE'})
                     RETURN c LIMIT 1 }[0] AS candidate
      WITH ${r}, ${keep}, CASE WHEN live IS NULL THEN null
                          WHEN ${point} < candidate.canaryShare THEN candidate ELSE live END AS v
      FOREACH (used IN CASE WHEN v IS NULL THEN [] ELSE [v] END |
               MERGE (${r})-[:USED_VERSION]->(used))`;
}

/** The columns of a version bound to `v` (useVersionOf), read by usedVersion. */
export const USED_VERSION_COLUMNS = RETURN_VERSION;
export type UsedVersionRow = { v: NodeLike | null; parentId: string | null };

/** The version of a row of USED_VERSION_COLUMNS; null when none was recorded. */
export function usedVersion(row: UsedVersionRow): AgentVersion | null {
  return row.v ? toVersion(row.v, row.parentId) : null;
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
      ? 'MATCH (:Agent {tenantId: $tenantId, id: $agentId})-[:HAS_VERSION]->(v:AgentVersion)'
      : 'UNWIND $versionIds AS id MATCH (v:AgentVersion {tenantId: $tenantId, id: id})';
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

/** CANDIDATE versions to decide, oldest first, in the tenants a process serves. */
export async function candidatesToDecide(
  tx: Tx,
  tenants: TenantScope,
  limit: number,
): Promise<AgentVersion[]> {
  const rows = await tx.run<{ v: NodeLike; parentId: string | null }>({
    cypher: `
      MATCH (v:AgentVersion {status: 'CANDIDATE'})
      WHERE ${IN_SCOPE('v')}
      WITH v ORDER BY v.createdAt, v.id LIMIT $limit
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
