import neo4j from 'neo4j-driver';
import type { Agent } from '../src/domain/agent.js';
import type { Task } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { IN_SCOPE, scopedTasks, type TenantScope } from './engine-scope.js';
import { toAgentSummary, toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import type { DependencyState } from './promotion.repository.js';
import { lockAndBump } from './locks.js';
import {
  CLAIMABLE,
  DUE,
  fairHead,
  PRIORITIES,
  queueHead,
  SPREAD,
  type QueueCursor,
} from './queue-head.js';

/**
 * Claiming: READY steps taken under a lease (one statement, atomic across processes), the
 * global limit's lock and count, the agents that may take them, and giving a claim back.
 */

export interface Claimed {
  task: Task;
  /** The worker whose lease it is under (its slot's). */
  workerId: string;
  requirements: string[];
  assigneeId: string | null;
  dependencies: DependencyState[];
  /** The root of the task's workflow (the task itself when it has no parent). */
  rootId: string;
  /** How long it was claimable (READY, past any retry backoff) before this claim. */
  waitedMs: number | null;
  /** The trace context of the request that started the workflow (its root's), if traced. */
  traceparent: string | null;
}

/** Dispatched steps (src/engine/dispatch.ts): by id, each still READY, due and claimable. */
export interface DispatchedStep {
  tenantId: string;
  taskId: string;
}

/**
 * Claims up to `limit` READY tasks under a lease for `owner`, or one owner per slot (the i-th
 * step claimed, in id order, is the i-th owner's: the ends of several schedulers in one group
 * commit claim together, hand-off.ts): from the head of the queue, by turns between tenants
 * (fairHead; `cursor` is the claimer's place in the round robin, moved on by the claim), or
 * from `dispatched` ids when a dispatch queue handed them out (those no longer READY, not yet
 * due or outside the scheduler's tenants are skipped). Concurrent claimers that all took the
 * queue's head waited on each other's locks and found those steps gone (issue 15): a claim
 * picks at random among a tenant's `spread × limit` oldest steps of the highest priority, so
 * priority order holds and age order within that window (`spread` 1: each tenant's head
 * itself). The picked steps are locked in id order, so two claims never deadlock on each
 * other. The SET takes each task's write lock before its status is read again, so two workers
 * never both claim one task (Neo4j reads are read-committed: a plain match-then-set could).
 */
export async function claimReadyTasks(
  tx: Tx,
  owner: string | readonly string[],
  limit: number,
  leaseMs: number,
  tenants: TenantScope = null,
  dispatched?: readonly DispatchedStep[],
  spread = SPREAD,
  cursor: QueueCursor = { after: '' },
): Promise<Claimed[]> {
  const picked = dispatched
    ? `UNWIND $dispatched AS sent
      MATCH (t:Task {id: sent.taskId})
      WHERE t.tenantId = sent.tenantId AND ${IN_SCOPE('t')} AND t.status = 'READY'
        AND t.orchestrated = true AND ${DUE}
      WITH DISTINCT t, null AS next LIMIT $limit`
    : fairHead(tenants !== null);
  const rows = await tx.run<{
    t: NodeLike;
    workerId: string;
    requirements: string[];
    assigneeId: string | null;
    deps: DependencyState[];
    rootId: string;
    waitedMs: number | null;
    traceparent: string | null;
    next: string | null;
  }>({
    cypher: `${picked}
      WITH t, next ORDER BY t.id
      ${lockAndBump('t', 'Task')}
      WITH t, next, coalesce(t.nextAttemptAt, t.updatedAt) AS claimableSince
      WHERE t.status = 'READY' AND ${CLAIMABLE}
      WITH next, collect(t) AS taken, collect(claimableSince) AS since
      UNWIND range(0, size(taken) - 1) AS slot
      WITH next, taken[slot] AS t, since[slot] AS claimableSince, $owners[slot] AS workerId
      SET t.status = 'IN_PROGRESS', t.leaseOwner = workerId,
          t.leaseExpiresAt = datetime() + duration({milliseconds: $leaseMs}),
          t.attempts = t.attempts + 1, t.updatedAt = datetime(), t.nextAttemptAt = null,
          t.waitingReason = null
      WITH t, claimableSince, workerId, next
      OPTIONAL MATCH (t)-[:ASSIGNED_TO]->(a:Agent)
      OPTIONAL MATCH (t)-[:DEPENDS_ON]->(d:Task)
      WITH t, claimableSince, workerId, next, a, collect(CASE WHEN d IS NULL THEN null ELSE {key: d.key, status: d.status, result: d.result} END) AS deps
      WITH t, claimableSince, workerId, next, a, deps,
           coalesce([(t)-[:SUBTASK_OF*1..]->(r) WHERE NOT (r)-[:SUBTASK_OF]->() | r][0], t) AS root
      RETURN t, workerId, [(t)-[:REQUIRES]->(c:Capability) | c.name] AS requirements,
             duration.inSeconds(claimableSince, datetime()).milliseconds AS waitedMs,
             a.id AS assigneeId, deps, root.id AS rootId, root.traceparent AS traceparent, next`,
    params: {
      owners: typeof owner === 'string' ? Array<string>(limit).fill(owner) : owner,
      limit: neo4j.int(limit),
      window: neo4j.int(limit * spread),
      leaseMs: neo4j.int(leaseMs),
      tenants,
      priorities: PRIORITIES,
      dispatched: dispatched ?? [],
      after: cursor.after,
    },
  });
  if (rows[0]?.next) cursor.after = rows[0].next;
  return rows.map((r) => ({
    task: toTask(r.t),
    workerId: r.workerId,
    requirements: r.requirements,
    assigneeId: r.assigneeId,
    dependencies: r.deps,
    rootId: r.rootId,
    waitedMs: r.waitedMs === null ? null : Math.max(0, r.waitedMs),
    traceparent: r.traceparent ?? null,
  }));
}

/**
 * Whether claimReadyTasks would find a step now: the same head of the queue, one row, no lock.
 * A tick looks first with this one-round-trip read, since an idle one mostly finds nothing and
 * a claim is a write transaction (a write slot, a begin and a commit) even when it takes none.
 */
export async function anyClaimable(tx: Tx, tenants: TenantScope = null): Promise<boolean> {
  const rows = await tx.run({
    cypher: `${queueHead(tenants !== null)}
      RETURN true AS found LIMIT 1`,
    params: { window: neo4j.int(1), tenants, priorities: PRIORITIES },
  });
  return rows.length > 0;
}

/**
 * READY steps that the claim's index order cannot see (no createdAt, or a priority outside the
 * four): only a malformed row, as a raw write or an old import could leave. Mapping it throws
 * MalformedNodeError, so the sweep that reads these quarantines them instead of leaving them
 * stuck unseen (src/engine/sweep.ts).
 */
export async function readyOutsideClaimOrder(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `${scopedTasks('t', ['READY'], tenants)}
      AND t.orchestrated = true AND (t.createdAt IS NULL OR NOT t.priority IN $priorities)
      RETURN t LIMIT $limit`,
    params: { limit: neo4j.int(limit), tenants, priorities: PRIORITIES },
  });
  return rows.map((r) => toTask(r.t));
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
      ${lockAndBump('l', 'EngineLimit')}`,
    params: {},
  });
}

/** Steps running now under a live lease, in the tenants a scheduler serves. */
export async function countRunning(tx: Tx, tenants: TenantScope = null): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      ${scopedTasks('t', ['IN_PROGRESS'], tenants)}
        AND t.orchestrated = true AND t.leaseExpiresAt > datetime()
      RETURN count(t) AS n`,
    params: { tenants },
  });
  return row?.n ?? 0;
}

/** Orchestrated steps waiting to be claimed (READY), for the engine's queue-depth metric. */
export async function countReady(tx: Tx, tenants: TenantScope = null): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      ${scopedTasks('t', ['READY'], tenants)} AND t.orchestrated = true
      RETURN count(t) AS n`,
    params: { tenants },
  });
  return row?.n ?? 0;
}

/** What choosing an agent reads of one; a chosen agent is read whole by its run's start. */
export type AgentSummary = Pick<Agent, 'id' | 'tenantId' | 'name' | 'role' | 'status'>;

export interface CandidateAgent {
  agent: AgentSummary;
  /** Steps it runs now (a running parent is not one: it only waits for its steps). */
  load: number;
  capabilities: {
    name: string;
    proficiency: number;
    runs: number;
    successes: number;
    avgLatencyMs: number;
    /** Runs that had an effective evaluation when they ended, and the sum of their scores. */
    scored?: number;
    scoreSum?: number;
  }[];
}

/**
 * Which agents a claim's steps can go to at all (src/engine/assignment.ts: `agentsWanted`):
 * Chiefs of Staff, Master Operators with one of `capabilities`, and `ids` (current assignees).
 */
export interface AgentsWanted {
  chiefs: boolean;
  capabilities: string[];
  ids: string[];
}

/** An agent `a` that may take work: active, and not PAUSED, ERROR or OFFLINE. */
export const AVAILABLE = (a: string) => `${a}.active = true AND ${a}.status IN ['IDLE', 'BUSY']`;

/**
 * Every active agent of the tenant. The hint: planned on a near-empty database, a label scan of
 * every tenant's agents looks as cheap as the index, and the cached plan then grows with all.
 */
const ALL_AGENTS = `
        MATCH (a:Agent {tenantId: tenantId}) USING INDEX SEEK a:Agent(tenantId, role)
        WHERE a.role IS NOT NULL AND ${AVAILABLE('a')}`;

/**
 * Only the agents `wanted`: each part starts from an index (role, capability, id), by hint for
 * the same reason as ALL_AGENTS (an audit in a busy suite caught an index scan of all agents).
 */
const WANTED_AGENTS = `
        CALL (tenantId) {
          MATCH (a:Agent {tenantId: tenantId, role: 'CHIEF_OF_STAFF'})
          USING INDEX SEEK a:Agent(tenantId, role)
          WHERE $wanted.chiefs
          RETURN a
          UNION
          MATCH (c:Capability {tenantId: tenantId}) USING INDEX SEEK c:Capability(tenantId, name)
          WHERE c.name IN $wanted.capabilities
          MATCH (c)<-[:HAS_CAPABILITY]-(a:Agent {tenantId: tenantId, role: 'MASTER_OPERATOR'})
          RETURN a
          UNION
          MATCH (a:Agent) USING INDEX SEEK a:Agent(id)
          WHERE a.id IN $wanted.ids AND a.tenantId = tenantId
          RETURN a
        }
        WITH a WHERE a.role IS NOT NULL AND ${AVAILABLE('a')}`;

/**
 * Agents of the tenants that may take work (active, not PAUSED, ERROR or OFFLINE), with their
 * load: the steps they run now, counted from the tenant's IN_PROGRESS tasks (an index seek)
 * rather than by walking every task ever assigned to each agent, which grew with history
 * (test/agent-load.int.test.ts). One statement: agent rows and load rows, joined here. Each
 * agent as a summary: every claim reads all of a tenant's agents, and whole nodes made that
 * about 3x as slow at 1,010 agents (85 against 28 ms a read, quiet; 1.2 s under bench:agents).
 * With `wanted`, only those agents: a claim of planning steps read 1,010 agents for 10 Chiefs.
 */
export async function candidateAgents(
  tx: Tx,
  tenantIds: string[],
  wanted: AgentsWanted | null = null,
): Promise<CandidateAgent[]> {
  // Lists, not maps: a claim reads up to every agent of a tenant, and the driver decodes each
  // map's keys anew (1,010 agents, quiet: 27 ms a read with maps, 19 with lists).
  const rows = await tx.run<{
    a: [string, unknown, unknown, unknown, unknown, unknown] | null;
    caps: [string, number, number, number, number, number, number][] | null;
    busyId: string | null;
    load: number;
  }>({
    cypher: `
      UNWIND $tenantIds AS tenantId
      CALL (tenantId) {
        ${wanted ? WANTED_AGENTS : ALL_AGENTS}
        RETURN [elementId(a), a.id, a.tenantId, a.name, a.role, a.status] AS a,
               [(a)-[h:HAS_CAPABILITY]->(c:Capability) | [c.name, h.proficiency, h.runs,
                  h.successes, h.avgLatencyMs, coalesce(h.scored, 0),
                  coalesce(h.scoreSum, 0.0)]] AS caps,
               null AS busyId, 0 AS load
        UNION ALL
        // A running parent is not a step: it only waits for its steps.
        // The hint: with many finished tasks the planner may start from the agents instead.
        MATCH (t:Task {tenantId: tenantId, status: 'IN_PROGRESS'})-[:ASSIGNED_TO]->(b:Agent)
        USING INDEX SEEK t:Task(tenantId, status)
        WHERE t.leaseOwner IS NOT NULL OR NOT EXISTS { (t)<-[:SUBTASK_OF]-() }
        RETURN null AS a, null AS caps, b.id AS busyId, count(t) AS load
      }
      RETURN a, caps, busyId, load`,
    params: { tenantIds, wanted },
  });
  const loads = new Map<string, number>();
  for (const r of rows) if (r.busyId) loads.set(r.busyId, r.load);
  return rows.flatMap((r) => {
    if (!r.a) return [];
    const [elementId, id, tenantId, name, role, status] = r.a;
    // The elementId names the node if it is malformed (toAgentSummary's error).
    const node = { elementId, properties: { id, tenantId, name, role, status } };
    const agent = toAgentSummary(node);
    const capabilities = (r.caps ?? []).map(
      ([name, proficiency, runs, successes, avgLatencyMs, scored, scoreSum]) => {
        return { name, proficiency, runs, successes, avgLatencyMs, scored, scoreSum };
      },
    );
    return [{ agent, load: loads.get(agent.id) ?? 0, capabilities }];
  });
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

/**
 * Takes back runs a claim started on an agent that was deactivated, paused or deleted before
 * the claim's commit (StartedRun.available): each run and its assignment deleted, its step
 * READY again as unclaim leaves it (the attempt not counted), retried after `retryMs`.
 */
export async function undoStarts(
  tx: Tx,
  starts: { runId: string; taskId: string; workerId: string; reason: string }[],
  retryMs: number,
): Promise<void> {
  if (starts.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $starts AS s
      MATCH (r:Run {id: s.runId}) USING INDEX SEEK r:Run(id)
      MATCH (r)-[:OF]->(t:Task {id: s.taskId})
      OPTIONAL MATCH (t)-[assigned:ASSIGNED_TO]->()
      DELETE assigned
      DETACH DELETE r
      WITH DISTINCT t, s WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = s.workerId
      SET t.status = 'READY', t.leaseOwner = null, t.leaseExpiresAt = null,
          t.attempts = t.attempts - 1, t.waitingReason = s.reason,
          t.nextAttemptAt = datetime() + duration({milliseconds: $retryMs})`,
    params: { starts, retryMs: neo4j.int(retryMs) },
  });
}
