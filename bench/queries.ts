import neo4j from 'neo4j-driver';
import type { Graph } from '../graph/graph.js';
import { deleteTenantBatch } from '../graph/tenant-removal.repository.js';

/** The benchmark's own statements (set-up, checks, clean-up); all scoped by its tenant. */

/** Makes the tasks READY steps of the engine, the state the baseline claims from. */
export async function makeReady(graph: Graph, tenantId: string, ids: string[]): Promise<void> {
  await graph.write((tx) =>
    tx.run({
      cypher: `
        UNWIND $ids AS id
        MATCH (t:Task {tenantId: $tenantId, id: id})
        SET t.status = 'READY', t.orchestrated = true, t.updatedAt = datetime()`,
      params: { tenantId, ids },
    }),
  );
}

export type StepRecord = {
  id: string;
  status: string;
  runs: number;
  /** Run.startedAt of its (last) run, epoch ms, as the claim transaction's datetime() said. */
  startedAt: number | null;
  endedAt: number | null;
  /** The latest Run.endedAt among its dependencies' successful runs; null for a first step. */
  lastDependencyEndedAt: number | null;
};

/** The root's status and each step's outcome and run times, after a workflow ran. */
export async function workflowOutcome(
  graph: Graph,
  tenantId: string,
  rootId: string,
): Promise<{ rootStatus: string | null; steps: StepRecord[] }> {
  const rows = await graph.read((tx) =>
    tx.run<StepRecord & { rootStatus: string }>({
      cypher: `
        MATCH (root:Task {tenantId: $tenantId, id: $rootId})<-[:SUBTASK_OF]-(s:Task)
        OPTIONAL MATCH (r:Run)-[:OF]->(s)
        WITH root, s, r ORDER BY r.startedAt
        WITH root, s, collect(r) AS runs
        OPTIONAL MATCH (s)-[:DEPENDS_ON]->(:Task)<-[:OF]-(dr:Run {status: 'SUCCEEDED'})
        WITH root, s, runs, max(dr.endedAt) AS depEnd
        RETURN root.status AS rootStatus, s.id AS id, s.status AS status, size(runs) AS runs,
               runs[-1].startedAt.epochMillis AS startedAt, runs[-1].endedAt.epochMillis AS endedAt,
               depEnd.epochMillis AS lastDependencyEndedAt`,
      params: { tenantId, rootId },
    }),
  );
  return { rootStatus: rows[0]?.rootStatus ?? null, steps: rows };
}

/** How many of the root's steps have ended (COMPLETED, FAILED, CANCELLED or SKIPPED). */
export async function stepsEnded(graph: Graph, tenantId: string, rootId: string) {
  const [row] = await graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: `
        MATCH (:Task {tenantId: $tenantId, id: $rootId})<-[:SUBTASK_OF]-(s:Task)
        WHERE s.status IN ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']
        RETURN count(s) AS n`,
      params: { tenantId, rootId },
    }),
  );
  return row?.n ?? 0;
}

/**
 * What a workflow's steps say on the database's clock: each step's wait from its last
 * dependency's end to its start (`dbGaps`), the first start to the last end (`dbSeconds`), the
 * steps COMPLETED with one run and the runs beyond one.
 */
export function stepFigures(steps: StepRecord[]) {
  const starts = steps.flatMap((s) => (s.startedAt === null ? [] : [s.startedAt]));
  const ends = steps.flatMap((s) => (s.endedAt === null ? [] : [s.endedAt]));
  return {
    dbGaps: steps
      .filter((s) => s.lastDependencyEndedAt !== null && s.startedAt !== null)
      .map((s) => s.startedAt! - s.lastDependencyEndedAt!),
    dbSeconds: (Math.max(...ends) - Math.min(...starts)) / 1000,
    completed: steps.filter((s) => s.status === 'COMPLETED' && s.runs === 1).length,
    extraRuns: steps.reduce((sum, s) => sum + Math.max(0, s.runs - 1), 0),
  };
}

/** How many of the tasks are COMPLETED with exactly one successful run. */
export async function completedOnce(graph: Graph, tenantId: string, ids: string[]) {
  const [row] = await graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: `
        UNWIND $ids AS id
        MATCH (t:Task {tenantId: $tenantId, id: id, status: 'COMPLETED'})
        WHERE COUNT { (t)<-[:OF]-(:Run {status: 'SUCCEEDED'}) } = 1
        RETURN count(t) AS n`,
      params: { tenantId, ids },
    }),
  );
  return row?.n ?? 0;
}

/** Deletes the benchmark tenant's nodes and nothing else, counting them; refuses an empty id. */
export async function deleteTenantNodes(graph: Graph, tenantId: string): Promise<number> {
  if (!tenantId) throw new Error('deleteTenantNodes needs a tenant id');
  const [row] = await graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: 'MATCH (n {tenantId: $tenantId}) RETURN count(n) AS n',
      params: { tenantId },
    }),
  );
  // In batches: all parts' tenant in one transaction ran over Neo4j's transaction memory.
  await deleteTenantInBatches(graph, tenantId);
  return Number(row?.n ?? 0);
}

/** The smallest write transaction: one property SET on a task of the tenant. */
export async function touchTask(graph: Graph, tenantId: string, id: string): Promise<void> {
  await graph.write((tx) =>
    tx.run({
      cypher: 'MATCH (t:Task {tenantId: $tenantId, id: $id}) SET t.version = t.version + 1',
      params: { tenantId, id },
    }),
  );
}

/** Agents and tasks of a tenant: whether a seeded benchmark tenant is whole. */
export async function tenantSize(
  graph: Graph,
  tenantId: string,
): Promise<{ agents: number; tasks: number }> {
  const [row] = await graph.read((tx) =>
    tx.run<{ agents: number; tasks: number }>({
      cypher: `
        RETURN COUNT { MATCH (:Agent {tenantId: $tenantId}) } AS agents,
               COUNT { MATCH (:Task {tenantId: $tenantId}) } AS tasks`,
      params: { tenantId },
    }),
  );
  return row ?? { agents: 0, tasks: 0 };
}

/** Deletes a tenant a batch at a time; returns how many nodes and relationships it deleted. */
export async function deleteTenantInBatches(graph: Graph, tenantId: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await graph.write((tx) => deleteTenantBatch(tx, tenantId));
    if (n === 0) return deleted;
    deleted += n;
  }
}

/** Up to `limit` tasks that have subtasks and a dependency: what the single-task read reads. */
export async function tasksWithRelations(
  graph: Graph,
  tenantId: string,
  limit: number,
): Promise<string[]> {
  const rows = await graph.read((tx) =>
    tx.run<{ id: string }>({
      cypher: `
        MATCH (t:Task {tenantId: $tenantId})
        WHERE EXISTS { (t)<-[:SUBTASK_OF]-() } AND EXISTS { (t)-[:DEPENDS_ON]->() }
        RETURN t.id AS id LIMIT $limit`,
      params: { tenantId, limit: neo4j.int(limit) },
    }),
  );
  return rows.map((r) => r.id);
}

/**
 * Every run of a tenant: who ran it and when (epoch ms, the database's clock), and whether a
 * sweep took it back because its lease lapsed (its worker's heartbeat did not come in time).
 */
export async function runIntervals(
  graph: Graph,
  tenantId: string,
): Promise<{ agentId: string; startedAt: number; endedAt: number | null; lapsed: boolean }[]> {
  return graph.read((tx) =>
    tx.run({
      cypher: `
        MATCH (r:Run {tenantId: $tenantId})-[:BY]->(a:Agent)
        RETURN a.id AS agentId, r.startedAt.epochMillis AS startedAt,
               r.endedAt.epochMillis AS endedAt,
               r.status = 'ABANDONED' AND coalesce(r.error, '') STARTS WITH 'lease expired' AS lapsed`,
      params: { tenantId },
    }),
  );
}
