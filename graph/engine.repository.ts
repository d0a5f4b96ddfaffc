import neo4j from 'neo4j-driver';
import type { Agent } from '../src/domain/agent.js';
import type { Task, TaskStatus } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { LATEST_RUN_COST } from './llm-call.repository.js';
import { iso, toAgent, toTask } from './mappers.js';
import type { NodeLike } from './page.js';

/** The orchestration engine's statements. The engine is a system component: it works across
 * tenants, and every write keeps the tenant of the task it touches. */

const FINISHED = "['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']";

/** Which tenants a scheduler serves: null means all (the default); a list dedicates it. */
export type TenantScope = string[] | null;
const IN_SCOPE = (v: string) => `($tenants IS NULL OR ${v}.tenantId IN $tenants)`;

export interface DependencyState {
  key: string | null;
  status: TaskStatus;
  result: string | null;
}

export interface Promotable {
  task: Task;
  hasChildren: boolean;
  dependencies: DependencyState[];
}

const PROMOTABLE = `
  WITH t WHERE NOT EXISTS { (t)-[:SUBTASK_OF]->(p:Task) WHERE p.status <> 'IN_PROGRESS' }
    AND NOT EXISTS { (t)-[:DEPENDS_ON]->(d:Task) WHERE NOT d.status IN ${FINISHED} }
  WITH t LIMIT $limit
  OPTIONAL MATCH (t)-[:DEPENDS_ON]->(d:Task)
  WITH t, collect(CASE WHEN d IS NULL THEN null ELSE {key: d.key, status: d.status, result: d.result} END) AS deps
  RETURN t, EXISTS { (t)<-[:SUBTASK_OF]-(:Task) } AS hasChildren, deps`;

async function readPromotable(tx: Tx, match: string, params: Record<string, unknown>) {
  const rows = await tx.run<{ t: NodeLike; hasChildren: boolean; deps: DependencyState[] }>({
    cypher: match + PROMOTABLE,
    params,
  });
  return rows.map((r) => ({ task: toTask(r.t), hasChildren: r.hasChildren, dependencies: r.deps }));
}

/** PENDING orchestrated tasks whose parent runs (or that have none) and whose dependencies all ended. */
export function promotableTasks(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<Promotable[]> {
  return readPromotable(
    tx,
    `MATCH (t:Task {status: 'PENDING', orchestrated: true}) WHERE ${IN_SCOPE('t')}`,
    { limit: neo4j.int(limit), tenants },
  );
}

/** The same, among the PENDING dependants of one task: what its ending may have unblocked. */
export function promotableDependants(tx: Tx, taskId: string): Promise<Promotable[]> {
  return readPromotable(
    tx,
    `MATCH (:Task {id: $taskId})<-[:DEPENDS_ON]-(t:Task {status: 'PENDING', orchestrated: true})`,
    { taskId, limit: neo4j.int(1_000) },
  );
}

/**
 * The parent of a task when it can be settled now (read without locks, after the task's end
 * committed: the last sibling to commit always sees the others ended).
 */
export async function settleableParentOf(tx: Tx, taskId: string): Promise<string | null> {
  const [row] = await tx.run<{ id: string }>({
    cypher: `
      MATCH (:Task {id: $taskId})-[:SUBTASK_OF]->(p:Task {status: 'IN_PROGRESS'})
      WHERE NOT EXISTS { (p)<-[:SUBTASK_OF]-(c:Task) WHERE NOT c.status IN ${FINISHED} }
         OR (coalesce(p.failurePolicy, 'FAIL_FAST') = 'FAIL_FAST'
             AND EXISTS { (p)<-[:SUBTASK_OF]-(:Task {status: 'FAILED'}) })
      RETURN p.id AS id`,
    params: { taskId },
  });
  return row?.id ?? null;
}

export interface StatusChange {
  id: string;
  from: TaskStatus;
  to: TaskStatus;
  error?: string | null;
  result?: string | null;
}

/**
 * Moves tasks from one status to another, each under its write lock and only if it is still
 * in `from` (another worker may have moved it first). Returns the tasks it changed.
 */
export async function changeStatuses(tx: Tx, changes: StatusChange[]): Promise<Task[]> {
  if (changes.length === 0) return [];
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      UNWIND $changes AS c
      MATCH (t:Task {id: c.id})
      SET t.version = t.version + 1
      WITH t, c WHERE t.status = c.from
      SET t.status = c.to, t.updatedAt = datetime(),
          t.error = CASE WHEN c.error IS NULL THEN t.error ELSE c.error END,
          t.result = CASE WHEN c.result IS NULL THEN t.result ELSE c.result END
      RETURN t`,
    // One lock order for every writer (by id): two workers promoting overlapping sets of
    // dependants otherwise deadlock on each other's locks.
    params: {
      changes: [...changes]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((c) => ({ error: null, result: null, ...c })),
    },
  });
  return rows.map((r) => toTask(r.t));
}

export interface Claimed {
  task: Task;
  requirements: string[];
  assigneeId: string | null;
  dependencies: DependencyState[];
}

/**
 * What a claim may take, checked again under the task's lock: a leaf step (a running parent is
 * not a step; a task that needs a plan is, until its plan has run) whose parent, if any, still
 * runs. Settling locks the children before it reads them, so a step claimed under a parent
 * that is ending is cancelled with its run, and a step of an ended parent is never claimed.
 */
const CLAIMABLE = `(t.needsPlan = true OR NOT EXISTS { (t)<-[:SUBTASK_OF]-(:Task) })
  AND NOT EXISTS { (t)-[:SUBTASK_OF]->(p:Task) WHERE p.status <> 'IN_PROGRESS' }`;

/**
 * Claims up to `limit` READY tasks for `workerId` under a lease. The SET takes each task's
 * write lock before its status is read again, so two workers never both claim one task
 * (Neo4j reads are read-committed: a plain match-then-set could).
 */
export async function claimReadyTasks(
  tx: Tx,
  workerId: string,
  limit: number,
  leaseMs: number,
  tenants: TenantScope = null,
): Promise<Claimed[]> {
  const rows = await tx.run<{
    t: NodeLike;
    requirements: string[];
    assigneeId: string | null;
    deps: DependencyState[];
  }>({
    cypher: `
      MATCH (t:Task {status: 'READY', orchestrated: true})
      WHERE ${IN_SCOPE('t')} AND (t.nextAttemptAt IS NULL OR t.nextAttemptAt <= datetime())
        AND ${CLAIMABLE}
      WITH t ORDER BY CASE t.priority WHEN 'URGENT' THEN 0 WHEN 'HIGH' THEN 1
                        WHEN 'MEDIUM' THEN 2 ELSE 3 END, t.createdAt, t.id
      LIMIT $limit
      SET t.version = t.version + 1
      WITH t WHERE t.status = 'READY' AND ${CLAIMABLE}
      SET t.status = 'IN_PROGRESS', t.leaseOwner = $workerId,
          t.leaseExpiresAt = datetime() + duration({milliseconds: $leaseMs}),
          t.attempts = t.attempts + 1, t.updatedAt = datetime(), t.nextAttemptAt = null,
          t.waitingReason = null
      WITH t
      OPTIONAL MATCH (t)-[:ASSIGNED_TO]->(a:Agent)
      OPTIONAL MATCH (t)-[:DEPENDS_ON]->(d:Task)
      WITH t, a, collect(CASE WHEN d IS NULL THEN null ELSE {key: d.key, status: d.status, result: d.result} END) AS deps
      RETURN t, [(t)-[:REQUIRES]->(c:Capability) | c.name] AS requirements,
             a.id AS assigneeId, deps`,
    params: { workerId, limit: neo4j.int(limit), leaseMs: neo4j.int(leaseMs), tenants },
  });
  return rows.map((r) => ({
    task: toTask(r.t),
    requirements: r.requirements,
    assigneeId: r.assigneeId,
    dependencies: r.deps,
  }));
}

/**
 * Takes the write lock of the one (:EngineLimit {scope: 'global'}) node (made on first use; a
 * unique constraint makes that safe), held until the transaction ends. Every claim under a
 * finite global limit takes it before counting, whatever tenants its scheduler serves: the
 * counts of a dedicated worker and a general one overlap, so one lock for all is what makes
 * count-then-claim exact. Claims without a limit never take it.
 */
export async function lockEngineLimit(tx: Tx): Promise<void> {
  await tx.run({
    cypher: `
      MERGE (l:EngineLimit {scope: 'global'})
      SET l.version = coalesce(l.version, 0) + 1`,
    params: {},
  });
}

/** Steps running now under a live lease, in the tenants a scheduler serves. */
export async function countRunning(tx: Tx, tenants: TenantScope = null): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (t:Task {status: 'IN_PROGRESS', orchestrated: true})
      WHERE t.leaseExpiresAt > datetime() AND ${IN_SCOPE('t')}
      RETURN count(t) AS n`,
    params: { tenants },
  });
  return row?.n ?? 0;
}

export interface QuarantinedNode {
  tenantId: string | null;
  id: string | null;
  /** False when an earlier call had quarantined it already (log and announce only once). */
  first: boolean;
}

/**
 * Takes a node the mappers cannot read out of every engine loop, keeping its data for a person
 * to inspect: it gains the :Quarantined label, `quarantinedAt` and `quarantineReason`. A task
 * becomes FAILED (its previous status kept in `quarantinedFrom`, its lease dropped), so no claim,
 * promotion or lease sweep picks it again and its workflow settles; an agent becomes inactive,
 * so it is never a candidate. Found by element id: the bad property may be the id itself.
 */
export async function quarantineNode(
  tx: Tx,
  label: 'Task' | 'Agent',
  elementId: string,
  reason: string,
): Promise<QuarantinedNode | null> {
  const effect =
    label === 'Task'
      ? `n.quarantinedFrom = coalesce(n.quarantinedFrom, CASE WHEN n.status IS :: STRING THEN n.status END), n.status = 'FAILED',
         n.error = 'quarantined: ' + $reason, n.leaseOwner = null, n.leaseExpiresAt = null,
         n.nextAttemptAt = null`
      : 'n.active = false';
  const [row] = await tx.run<{ tenantId: unknown; id: unknown; first: boolean }>({
    cypher: `
      MATCH (n:${label}) WHERE elementId(n) = $elementId
      WITH n, NOT n:Quarantined AS first
      SET n:Quarantined, n.quarantinedAt = coalesce(n.quarantinedAt, datetime()),
          n.quarantineReason = $reason, ${effect}
      RETURN n.tenantId AS tenantId, n.id AS id, first`,
    params: { elementId, reason },
  });
  if (!row) return null;
  return {
    tenantId: typeof row.tenantId === 'string' ? row.tenantId : null,
    id: typeof row.id === 'string' ? row.id : null,
    first: row.first,
  };
}

export interface CandidateAgent {
  agent: Agent;
  /** Steps it runs now (a running parent is not one: it only waits for its steps). */
  load: number;
  capabilities: {
    name: string;
    proficiency: number;
    runs: number;
    successes: number;
    avgLatencyMs: number;
  }[];
}

/** Agents of the tenants that may take work: active, not PAUSED, ERROR or OFFLINE. */
export async function candidateAgents(tx: Tx, tenantIds: string[]): Promise<CandidateAgent[]> {
  const rows = await tx.run<{ a: NodeLike; load: number; caps: CandidateAgent['capabilities'] }>({
    cypher: `
      UNWIND $tenantIds AS tenantId
      MATCH (a:Agent {tenantId: tenantId, active: true})
      WHERE a.status IN ['IDLE', 'BUSY']
      RETURN a,
        COUNT { (a)<-[:ASSIGNED_TO]-(t:Task {status: 'IN_PROGRESS'})
                WHERE t.leaseOwner IS NOT NULL OR NOT EXISTS { (t)<-[:SUBTASK_OF]-(:Task) } } AS load,
        [(a)-[h:HAS_CAPABILITY]->(c:Capability) | {name: c.name, proficiency: h.proficiency,
          runs: h.runs, successes: h.successes, avgLatencyMs: h.avgLatencyMs}] AS caps`,
    params: { tenantIds },
  });
  return rows.map((r) => ({ agent: toAgent(r.a), load: r.load, capabilities: r.caps }));
}

export interface RunStart {
  id: string;
  taskId: string;
  agentId: string;
  workerId: string;
  score: number;
  reason: string;
}

/** Records the assignments (with why) and the attempts as :Run nodes, in one statement. */
export async function startRuns(tx: Tx, runs: RunStart[]): Promise<void> {
  if (runs.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $runs AS run
      MATCH (t:Task {id: run.taskId}), (a:Agent {id: run.agentId})
      OPTIONAL MATCH (t)-[old:ASSIGNED_TO]->()
      DELETE old
      WITH DISTINCT t, a, run
      CREATE (t)-[:ASSIGNED_TO {score: run.score, reason: run.reason, at: datetime()}]->(a)
      CREATE (r:Run {id: run.id, tenantId: t.tenantId, status: 'RUNNING', attempt: t.attempts,
                     worker: run.workerId, startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
      CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)`,
    params: { runs },
  });
}

/** One run: startRuns for a single step. */
export function startRun(tx: Tx, run: RunStart): Promise<void> {
  return startRuns(tx, [run]);
}

/** Gives a claimed task back (no agent could take it): READY again, the attempt not counted. */
export async function unclaim(
  tx: Tx,
  taskId: string,
  workerId: string,
  reason: string,
  retryMs: number,
) {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (t:Task {id: $taskId, status: 'IN_PROGRESS', leaseOwner: $workerId})
      SET t.status = 'READY', t.leaseOwner = null, t.leaseExpiresAt = null,
          t.attempts = t.attempts - 1, t.waitingReason = $reason,
          t.nextAttemptAt = datetime() + duration({milliseconds: $retryMs})
      RETURN t`,
    params: { taskId, workerId, reason, retryMs: neo4j.int(retryMs) },
  });
  return rows.map((r) => toTask(r.t));
}

/** Extends the lease while the step runs; false once the task is no longer this worker's. */
export async function heartbeat(tx: Tx, taskId: string, workerId: string, leaseMs: number) {
  const rows = await tx.run({
    cypher: `
      MATCH (t:Task {id: $taskId, status: 'IN_PROGRESS', leaseOwner: $workerId})
      SET t.version = t.version + 1
      // Checked again under the lock: a heartbeat that matched just before the step's end
      // committed must not give a lease back to the task (it then "expired" and ran again).
      WITH t WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = $workerId
      SET t.leaseExpiresAt = datetime() + duration({milliseconds: $leaseMs})
      RETURN 1 AS ok`,
    params: { taskId, workerId, leaseMs: neo4j.int(leaseMs) },
  });
  return rows.length > 0;
}

/**
 * Gives a running step back because its worker stops (a graceful shutdown aborts it): READY
 * again at once, the attempt not counted, the run RELEASED. Only while this worker holds the
 * lease; null otherwise (whoever holds the task now decides).
 */
export async function releaseRun(
  tx: Tx,
  o: { taskId: string; runId: string; workerId: string; reason: string },
): Promise<{ task: Task; agentId: string | null } | null> {
  const [row] = await tx.run<{ t: NodeLike; agentId: string | null }>({
    cypher: `
      MATCH (t:Task {id: $taskId})<-[:OF]-(r:Run {id: $runId})
      SET t.version = t.version + 1
      WITH t, r WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = $workerId AND r.status = 'RUNNING'
      SET r.status = 'RELEASED', r.endedAt = datetime(), r.error = $reason, r.updatedAt = datetime(),
          t.status = 'READY', t.attempts = t.attempts - 1, t.leaseOwner = null,
          t.leaseExpiresAt = null, t.nextAttemptAt = null, t.updatedAt = datetime()
      WITH t, r
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      RETURN t, a.id AS agentId`,
    params: o,
  });
  return row ? { task: toTask(row.t), agentId: row.agentId } : null;
}

/**
 * A run whose worker lost the task's lease (or whose task was cancelled or reassigned) while it
 * ran: ABANDONED if nobody ended it yet. The task is not touched: it is someone else's now.
 */
export async function abandonRun(tx: Tx, runId: string, reason: string): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (r:Run {id: $runId}) WHERE r.status = 'RUNNING'
      SET r.status = 'ABANDONED', r.endedAt = datetime(), r.error = $reason, r.updatedAt = datetime()`,
    params: { runId, reason },
  });
}

export type OrphanedStep = {
  id: string;
  status: TaskStatus;
  parentStatus: TaskStatus;
};

/**
 * Steps waiting to run (PENDING, READY, AWAITING_APPROVAL) under a parent that has ended: they
 * can never run (only a running parent's steps are promoted or claimed), e.g. a plan written
 * after its root was cancelled. The sweep cancels them.
 */
export async function orphanedSteps(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<OrphanedStep[]> {
  return tx.run<OrphanedStep>({
    cypher: `
      MATCH (t:Task {orchestrated: true})-[:SUBTASK_OF]->(p:Task)
      WHERE t.status IN ['PENDING', 'READY', 'AWAITING_APPROVAL'] AND ${IN_SCOPE('t')}
        AND p.status IN ${FINISHED}
      RETURN t.id AS id, t.status AS status, p.status AS parentStatus LIMIT $limit`,
    params: { limit: neo4j.int(limit), tenants },
  });
}

export interface RunOutcome {
  taskId: string;
  runId: string;
  workerId: string;
  latencyMs: number;
  /** The task's next status: COMPLETED, READY (a retry), FAILED or AWAITING_APPROVAL. */
  status: TaskStatus;
  runStatus: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  result?: string | null;
  error?: string | null;
  /** Retry no sooner than this long after the run ends (by the database's clock). */
  retryInMs?: number | null;
}

/**
 * Ends a run, only while this worker still holds the task's lease: a worker that lost it (it
 * stalled and another took over) changes nothing. Idempotent: ending twice changes nothing.
 */
export async function endRun(
  tx: Tx,
  o: RunOutcome,
): Promise<{ task: Task; agentId: string | null } | null> {
  const [row] = await tx.run<{ t: NodeLike; agentId: string | null }>({
    cypher: `
      MATCH (t:Task {id: $taskId})<-[:OF]-(r:Run {id: $runId})
      SET t.version = t.version + 1
      WITH t, r WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = $workerId AND r.status = 'RUNNING'
      SET r.status = $runStatus, r.endedAt = datetime(), r.latencyMs = $latencyMs, r.error = $error,
          r.updatedAt = datetime(),
          t.status = $status, t.leaseOwner = null, t.leaseExpiresAt = null, t.updatedAt = datetime(),
          t.result = coalesce($result, t.result), t.error = $error,
          t.nextAttemptAt = CASE WHEN $retryInMs IS NULL THEN null
                                 ELSE datetime() + duration({milliseconds: $retryInMs}) END
      WITH t, r
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      RETURN t, a.id AS agentId`,
    params: {
      result: null,
      error: null,
      ...o,
      retryInMs: o.retryInMs == null ? null : neo4j.int(Math.round(o.retryInMs)),
    },
  });
  return row ? { task: toTask(row.t), agentId: row.agentId } : null;
}

/** Running statistics of the agent's capabilities that the task required (cost: its latest run's). */
export async function recordPerformance(
  tx: Tx,
  agentId: string,
  taskId: string,
  success: boolean,
  latencyMs: number,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (t:Task {id: $taskId}), (a:Agent {id: $agentId})
      CALL (t, a) { ${LATEST_RUN_COST} }
      MATCH (t)-[:REQUIRES]->(:Capability)<-[h:HAS_CAPABILITY]-(a)
      SET h.avgCostUsd = (coalesce(h.avgCostUsd, 0.0) * h.runs + runCostUsd) / (h.runs + 1),
          h.avgLatencyMs = (coalesce(h.avgLatencyMs, 0.0) * h.runs + $latencyMs) / (h.runs + 1),
          h.runs = h.runs + 1,
          h.successes = h.successes + CASE WHEN $success THEN 1 ELSE 0 END`,
    params: { agentId, taskId, success, latencyMs },
  });
}

/** Tasks whose lease ran out (their worker died or stalled): back to READY, or FAILED when out of attempts. */
export async function expireLeases(tx: Tx, tenants: TenantScope = null): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (t:Task {status: 'IN_PROGRESS'}) WHERE t.leaseExpiresAt < datetime() AND ${IN_SCOPE('t')}
      SET t.version = t.version + 1
      WITH t WHERE t.status = 'IN_PROGRESS' AND t.leaseExpiresAt < datetime()
      OPTIONAL MATCH (t)<-[:OF]-(r:Run {status: 'RUNNING'})
      SET r.status = 'ABANDONED', r.endedAt = datetime(), r.error = 'lease expired: worker ' + t.leaseOwner + ' stopped answering'
      WITH DISTINCT t
      SET t.status = CASE WHEN t.attempts >= t.maxAttempts THEN 'FAILED' ELSE 'READY' END,
          t.error = 'lease expired: worker ' + t.leaseOwner + ' stopped answering',
          t.leaseOwner = null, t.leaseExpiresAt = null, t.updatedAt = datetime()
      RETURN t`,
    params: { tenants },
  });
  return rows.map((r) => toTask(r.t));
}

export interface ParentState {
  parent: Task;
  children: {
    id: string;
    key: string | null;
    title: string;
    status: TaskStatus;
    result: string | null;
  }[];
}

/**
 * Running orchestrated parents that can be settled now: every child ended, or a child failed
 * under FAIL_FAST. A sweep for what the immediate settling after each step did not reach.
 */
export async function settleableParents(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<string[]> {
  const rows = await tx.run<{ id: string }>({
    cypher: `
      MATCH (p:Task {status: 'IN_PROGRESS', orchestrated: true})<-[:SUBTASK_OF]-(:Task)
      WHERE ${IN_SCOPE('p')}
      WITH DISTINCT p
      WHERE NOT EXISTS { (p)<-[:SUBTASK_OF]-(c:Task) WHERE NOT c.status IN ${FINISHED} }
         OR (coalesce(p.failurePolicy, 'FAIL_FAST') = 'FAIL_FAST'
             AND EXISTS { (p)<-[:SUBTASK_OF]-(:Task {status: 'FAILED'}) })
      RETURN p.id AS id LIMIT $limit`,
    params: { limit: neo4j.int(limit), tenants },
  });
  return rows.map((r) => r.id);
}

/**
 * A parent by id, with its children's states, if it still runs: under the parent's lock and
 * its children's (taken in id order before their statuses are read), so a step claimed while
 * the parent settles is seen running, and cancelled with its run, never left behind (issue 10).
 */
export async function runningParent(tx: Tx, parentId: string): Promise<ParentState | null> {
  const [row] = await tx.run<{ p: NodeLike; children: ParentState['children'] }>({
    cypher: `
      MATCH (p:Task {id: $parentId})
      SET p.version = p.version + 1
      WITH p WHERE p.status = 'IN_PROGRESS'
      MATCH (c:Task)-[:SUBTASK_OF]->(p)
      WITH p, c ORDER BY c.id
      SET c.version = c.version + 1
      WITH p, collect(c) AS locked
      UNWIND locked AS c
      RETURN p, collect({id: c.id, key: c.key, title: c.title, status: c.status, result: c.result}) AS children`,
    params: { parentId },
  });
  return row ? { parent: toTask(row.p), children: row.children } : null;
}

/**
 * Cancels these tasks and every unfinished task below them, each under its lock (taken in id
 * order) and only while it is still unfinished, with their RUNNING runs: a step claimed after
 * the parent read its children is cancelled too, and its worker aborts at its next heartbeat.
 * Returns the tasks it changed.
 */
export async function cancelSubtrees(tx: Tx, ids: string[], error: string): Promise<Task[]> {
  if (ids.length === 0) return [];
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (c:Task {id: id})
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(c)
      WITH collect(DISTINCT c) + collect(DISTINCT d) AS all
      UNWIND all AS t
      WITH DISTINCT t ORDER BY t.id
      SET t.version = t.version + 1
      WITH t WHERE NOT t.status IN ${FINISHED}
      SET t.status = 'CANCELLED', t.error = $error, t.updatedAt = datetime(),
          t.leaseOwner = null, t.leaseExpiresAt = null, t.nextAttemptAt = null
      WITH t
      OPTIONAL MATCH (t)<-[:OF]-(r:Run {status: 'RUNNING'})
      SET r.status = 'CANCELLED', r.endedAt = datetime(), r.error = $error
      RETURN DISTINCT t`,
    params: { ids, error },
  });
  return rows.map((r) => toTask(r.t));
}

/** Unfinished tasks under a parent, any depth (to cancel them when the parent fails fast). */
export async function openDescendants(tx: Tx, parentId: string): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (t:Task)-[:SUBTASK_OF*1..]->(:Task {id: $parentId})
      WHERE NOT t.status IN ${FINISHED}
      RETURN DISTINCT t`,
    params: { parentId },
  });
  return rows.map((r) => toTask(r.t));
}

/** Marks RUNNING runs of these tasks CANCELLED (their workers see the task is no longer theirs). */
export async function cancelRuns(tx: Tx, taskIds: string[], reason: string): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $taskIds AS id
      MATCH (:Task {id: id})<-[:OF]-(r:Run {status: 'RUNNING'})
      SET r.status = 'CANCELLED', r.endedAt = datetime(), r.error = $reason`,
    params: { taskIds, reason },
  });
}

/**
 * An agent stops taking work (deactivated, paused, in error): its queued steps lose the
 * assignment and its running ones go back to READY (the attempt not counted), their runs
 * ABORTED; their workers see the lease is gone and abort the step. Only leaf steps (and a task
 * still to be planned) are released: a parent is not the agent's work, and turning a running
 * parent back into READY made it run as a step while its children still ran (issue 10).
 */
export async function releaseAgentWork(
  tx: Tx,
  tenantId: string,
  agentId: string,
  reason: string,
): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (:Agent {tenantId: $tenantId, id: $agentId})<-[a:ASSIGNED_TO]-(t:Task)
      WHERE NOT t.status IN ${FINISHED}
        AND (t.leaseOwner IS NOT NULL OR NOT EXISTS { (t)<-[:SUBTASK_OF]-(:Task) })
      SET t.version = t.version + 1
      DELETE a
      WITH t
      OPTIONAL MATCH (t)<-[:OF]-(r:Run {status: 'RUNNING'})
      SET r.status = 'ABORTED', r.endedAt = datetime(), r.error = $reason
      WITH DISTINCT t
      SET t.status = CASE WHEN t.status = 'IN_PROGRESS' THEN 'READY' ELSE t.status END,
          t.attempts = CASE WHEN t.status = 'IN_PROGRESS' THEN t.attempts - 1 ELSE t.attempts END,
          t.leaseOwner = null, t.leaseExpiresAt = null, t.updatedAt = datetime()
      RETURN t`,
    params: { tenantId, agentId, reason },
  });
  return rows.map((r) => toTask(r.t));
}

/** Marks the task and every task below it as run by the engine. Returns how many. */
export async function markOrchestrated(tx: Tx, tenantId: string, rootId: string): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId})
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(root)
      WITH root, collect(DISTINCT d) AS below
      UNWIND [root] + below AS t
      SET t.orchestrated = true, t.updatedAt = datetime()
      RETURN count(t) AS n`,
    params: { tenantId, rootId },
  });
  return row?.n ?? 0;
}

/** Marks a submitted task as one its Chief of Staff plans before anything else runs. */
export async function markNeedsPlan(tx: Tx, tenantId: string, id: string): Promise<void> {
  await tx.run({
    cypher: 'MATCH (t:Task {tenantId: $tenantId, id: $id}) SET t.needsPlan = true',
    params: { tenantId, id },
  });
}

/** Records a person's approval decision on the task. */
export async function recordDecision(
  tx: Tx,
  tenantId: string,
  taskId: string,
  decision: string,
  actor: string,
  comment: string | null,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId})
      SET t.decision = $decision, t.decidedBy = $actor, t.decisionComment = $comment,
          t.decidedAt = datetime()`,
    params: { tenantId, taskId, decision, actor, comment },
  });
}

export interface RunRecord {
  id: string;
  taskId: string;
  status: string;
  attempt: number;
  worker: string | null;
  error: string | null;
  latencyMs: number | null;
  agentId: string | null;
  startedAt: string;
  endedAt: string | null;
}

/** For loaders: the runs of each task, oldest first. */
export async function runsByTaskIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<RunRecord[]> {
  const rows = await tx.run<{ taskId: string; r: NodeLike; agentId: string | null }>({
    cypher: `
      UNWIND $ids AS taskId
      MATCH (:Task {tenantId: $tenantId, id: taskId})<-[:OF]-(r:Run)
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      RETURN taskId, r, a.id AS agentId ORDER BY r.startedAt, r.id`,
    params: { tenantId, ids },
  });
  return rows.map(({ taskId, r, agentId }) => {
    const p = r.properties;
    return {
      id: String(p.id),
      taskId,
      status: String(p.status),
      attempt: Number(p.attempt ?? 0),
      worker: p.worker ? String(p.worker) : null,
      error: p.error ? String(p.error) : null,
      latencyMs: typeof p.latencyMs === 'number' ? p.latencyMs : null,
      agentId,
      startedAt: iso(p.startedAt),
      endedAt: p.endedAt ? iso(p.endedAt) : null,
    };
  });
}

/** A task and everything below it, with the edges between them: the workflow to draw. */
export async function workflowOf(
  tx: Tx,
  tenantId: string,
  rootId: string,
): Promise<{ tasks: Task[]; edges: { from: string; to: string; type: string }[] } | null> {
  const [row] = await tx.run<{
    tasks: NodeLike[];
    edges: { from: string; to: string; type: string }[];
  }>({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId})
      OPTIONAL MATCH (d:Task)-[:SUBTASK_OF*1..]->(root)
      WITH root, collect(DISTINCT d) AS below
      WITH [root] + below AS tasks
      UNWIND tasks AS t
      OPTIONAL MATCH (t)-[e:SUBTASK_OF|DEPENDS_ON]->(o:Task)
      WHERE o IN tasks
      WITH tasks, collect(CASE WHEN e IS NULL THEN null ELSE {from: t.id, to: o.id, type: type(e)} END) AS edges
      RETURN tasks, edges`,
    params: { tenantId, rootId },
  });
  return row ? { tasks: row.tasks.map(toTask), edges: row.edges } : null;
}
