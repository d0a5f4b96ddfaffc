import { canaryPoint, type AgentVersion } from '../src/domain/agent-version.js';
import { ensureLiveVersions, RETURN_VERSION, toVersion } from './agent-version.repository.js';
import type { Tx } from './cypher.js';
import type { NodeLike } from './page.js';

/*
 * Which agent version each run uses (issue 12): (:Run)-[:USED_VERSION]->(:AgentVersion), chosen
 * when its step is claimed (startRuns, through useVersionOf; useVersions for agents that have no
 * LIVE version yet).
 */

/**
 * Which version each claimed run uses, recorded as (:Run)-[:USED_VERSION]->(:AgentVersion):
 * the agent's CANDIDATE when the run's canary point falls below its share, else its LIVE one
 * (made first for agents without one: `created`). One statement when every agent has its LIVE
 * version; a claim calls it only for the runs startRuns found none for (agents from before
 * versions began), having recorded the others as it started them (test/engine-round-trips).
 * Choosing again for the same runs gives the same versions.
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
