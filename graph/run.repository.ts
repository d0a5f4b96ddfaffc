import neo4j from 'neo4j-driver';
import { AVAILABLE } from './claim.repository.js';
import type { Agent } from '../src/domain/agent.js';
import type { Task, TaskStatus } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { assignmentsOf, FINISHED } from './engine-scope.js';
import {
  effectiveEvaluation,
  evaluationParam,
  WRITE_EVALUATION,
  type NewEvaluation,
} from './evaluation.repository.js';
import { readAgent, toTask } from './mappers.js';
import { projection } from './projections.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';
import {
  numberEvent,
  TASK_EVENT_COLUMNS,
  taskEventOf,
  type TaskEvent,
  type TaskEventRow,
} from './task-event.repository.js';
import { batched } from './batch.js';
import {
  DEPENDANTS_LIMIT,
  DEPENDANTS_TO_PROMOTE,
  toPromotable,
  type Promotable,
  type PromotableRow,
} from './promotion.repository.js';
import {
  USED_VERSION_COLUMNS,
  usedVersion,
  useVersionOf,
  type UsedVersionRow,
} from './used-version.repository.js';
import { canaryPoint, type AgentVersion } from '../src/domain/agent-version.js';
import { MERGE_EPISODE, type EpisodeRow } from './memory/episode.repository.js';

/**
 * Runs: starting attempts as :Run nodes, ending, releasing and abandoning a run (only under the
 * lease), agents' running statistics and an agent's work given back. Leases' heartbeat and
 * expiry: lease.repository.ts. The runs of tasks, for loaders: run-history.repository.ts.
 */

export interface RunStart {
  id: string;
  taskId: string;
  agentId: string;
  workerId: string;
  score: number;
  reason: string;
  /** The trace its step's span belongs to (issue 17); null when tracing is off. */
  traceId?: string | null;
}

/**
 * A run started: its agent, whole, the version it uses (null: none recorded yet) and its
 * step's STARTED event, numbered (taskEvents).
 */
export interface StartedRun {
  agent: Agent;
  version: AgentVersion | null;
  event: TaskEvent;
  /** The agent is active and available, read after the run's BY edge took its lock. */
  available: boolean;
}

/**
 * Records the assignments (with why) and the attempts as :Run nodes, and the agent version each
 * run uses (useVersionOf: one statement where a claim took two), in one statement, and numbers
 * each step's event (numberEvent: the statement that announced it after was a round trip more
 * while the claim held its steps' locks); returns each run's agent whole (the claim chose it
 * from summaries), version and event, by run id. The caller holds the steps' write locks.
 * Whether the agent is still `available` is read after the BY edge, which waits for a
 * deactivation's lock: one the claim's read of the agents missed is seen (claim.repository.ts:
 * undoStarts).
 */
export async function startRuns(tx: Tx, runs: RunStart[]): Promise<Map<string, StartedRun>> {
  if (runs.length === 0) return new Map();
  const rows = await tx.run<
    { runId: string; a: unknown; available: boolean } & UsedVersionRow & TaskEventRow
  >({
    cypher: `
      UNWIND $runs AS run
      MATCH (t:Task {id: run.taskId}), (a:Agent {id: run.agentId})
      OPTIONAL MATCH (t)-[old:ASSIGNED_TO]->()
      DELETE old
      WITH DISTINCT t, a, run
      CREATE (t)-[:ASSIGNED_TO {score: run.score, reason: run.reason, at: datetime()}]->(a)
      CREATE (r:Run {id: run.id, tenantId: t.tenantId, status: 'RUNNING', attempt: t.attempts,
                     worker: run.workerId, traceId: run.traceId,
                     startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
      CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)
      WITH r, run, a, t
      ${useVersionOf('r', 'a', 'run.point', 'run, a, t')}
      ${numberEvent('t', '$now', 'r, run, a, v')}
      RETURN run.id AS runId, ${projection('Agent').of('a')} AS a, ${USED_VERSION_COLUMNS},
             ${TASK_EVENT_COLUMNS('t')},
             ${AVAILABLE('a')} AS available`,
    params: {
      runs: runs.map((r) => ({ ...r, traceId: r.traceId ?? null, point: canaryPoint(r.id) })),
      now: Date.now(),
    },
  });
  return new Map(
    rows.map((r) => [
      r.runId,
      {
        agent: readAgent(r.a),
        version: usedVersion(r),
        event: taskEventOf(r),
        available: r.available,
      },
    ]),
  );
}

/** One run: startRuns for a single step. */
export async function startRun(tx: Tx, run: RunStart): Promise<void> {
  await startRuns(tx, [run]);
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
      MATCH (t:Task {id: $taskId})<-[:OF]-(r:Run {id: $runId}) USING INDEX SEEK r:Run(id)
      ${lockAndBump('t', 'Task')}
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

export interface RunOutcome {
  taskId: string;
  runId: string;
  workerId: string;
  latencyMs: number;
  /** The task's next status: COMPLETED, READY (a retry), FAILED, AWAITING_APPROVAL or AWAITING_INPUT. */
  status: TaskStatus;
  runStatus: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED';
  result?: string | null;
  error?: string | null;
  /** Retry no sooner than this long after the run ends (by the database's clock). */
  retryInMs?: number | null;
  /**
   * Number the task's event here (EndedRun.event) unless it is a root: for a caller that
   * changes nothing of the task after this in its transaction (no statement reads it again).
   */
  announce?: boolean;
  /** The run's result as a memory episode (src/memory/ingest/sources.ts), made as it ends. */
  episode?: EpisodeRow | null;
  /**
   * Read here the dependants its end may move (EndedRun.promotable), when it finishes the
   * task: for a caller that changes no task after this in its transaction. Ends sent together
   * (a group commit's) read theirs after all of them, with promotableDependants.
   */
  promote?: boolean;
  /**
   * Its objective evaluation, scored for the cost its executor booked (`bookedUsd`): written
   * here when the run's recorded model calls cost that (EndedRun.evaluated); else the caller
   * writes one scored for the cost read (EndedRun.costUsd), as the graph's record counts.
   */
  evaluation?: { bookedUsd: number; evaluation: NewEvaluation } | null;
}

/** What endRun read while ending a run, so that nothing after it reads the same again. */
export interface EndedRun {
  task: Task;
  agentId: string | null;
  /** What the run's model calls cost (USD). */
  costUsd: number;
  /** The task has no parent. */
  isRoot: boolean;
  /** Some task depends on this one (its end may unblock it). */
  hasDependants: boolean;
  /** The task's event, numbered when the outcome asked to `announce` it and it is no root. */
  event: TaskEvent | null;
  /** The dependants its end may move, when asked to `promote` and read here; else null. */
  promotable: Promotable[] | null;
  /** The outcome's `evaluation` was written. */
  evaluated: boolean;
}

/**
 * Ends a run, only while this worker still holds the task's lease: a worker that lost it (it
 * stalled and another took over) changes nothing. Idempotent: ending twice changes nothing.
 * Ends sent at once on one transaction (a group commit's) share a statement (batch.ts).
 */
export function endRun(tx: Tx, o: RunOutcome): Promise<EndedRun | null> {
  return batched(tx, endRunBatch, o, [o.taskId]);
}

async function endRunBatch(tx: Tx, outcomes: RunOutcome[]): Promise<(EndedRun | null)[]> {
  const rows = await tx.run<
    {
      runId: string;
      t: NodeLike;
      agentId: string | null;
      costUsd: number | null;
      isRoot: boolean;
      hasDependants: boolean;
      promotable: PromotableRow[] | null;
      evaluated: boolean;
    } & Partial<Omit<TaskEventRow, 't'>>
  >({
    cypher: `
      UNWIND $runs AS o
      MATCH (t:Task {id: o.taskId})<-[:OF]-(r:Run {id: o.runId}) USING INDEX SEEK r:Run(id)
      ${lockAndBump('t', 'Task')}
      WITH o, t, r WHERE t.status = 'IN_PROGRESS' AND t.leaseOwner = o.workerId AND r.status = 'RUNNING'
      SET r.status = o.runStatus, r.endedAt = datetime(), r.latencyMs = o.latencyMs, r.error = o.error,
          r.updatedAt = datetime(),
          r.reflectionDueAt = CASE WHEN o.runStatus IN ['SUCCEEDED', 'FAILED'] THEN datetime() END,
          t.status = o.status, t.leaseOwner = null, t.leaseExpiresAt = null, t.updatedAt = datetime(),
          t.result = coalesce(o.result, t.result), t.error = o.error,
          t.nextAttemptAt = CASE WHEN o.retryInMs IS NULL THEN null
                                 ELSE datetime() + duration({milliseconds: o.retryInMs}) END
      WITH o, t, r, NOT EXISTS { (t)-[:SUBTASK_OF]->() } AS isRoot
      CALL (o) {
        WITH o.episode AS x WHERE x IS NOT NULL
        ${MERGE_EPISODE('x')}
      }
      OPTIONAL CALL (o, t, isRoot) {
        WITH o, t WHERE o.announce AND NOT isRoot
        ${numberEvent('t', '$now', 'o')}
        RETURN seq, previousAt, ancestors
      }
      // Grouped by the ended task: none read (null) unless asked to and the task finished.
      OPTIONAL CALL (o) {
        WITH o WHERE o.promote
        MATCH (ended:Task {id: o.taskId}) USING INDEX SEEK ended:Task(id)
        WHERE ended.status IN ${FINISHED}
        OPTIONAL CALL (ended) { ${DEPENDANTS_TO_PROMOTE('ended')} }
        RETURN ended, collect(CASE WHEN t IS NULL THEN null
                                   ELSE {t: t, hasChildren: hasChildren, deps: deps} END) AS promotable
      }
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      CALL (r) {
        OPTIONAL MATCH (r)-[:CALLED]->(c:LLMCall)
        RETURN sum(coalesce(c.costUsd, 0.0)) AS costUsd
      }
      // Within 1e-9: the booking and this sum add the same costs in different orders.
      WITH *, o.evaluation IS NOT NULL AND abs(costUsd - o.evaluation.bookedUsd) < 1e-9
              AND r.tenantId = o.evaluation.tenantId AS evaluated
      CALL (o, r, evaluated) {
        WITH o.evaluation AS e, r WHERE evaluated
        ${WRITE_EVALUATION('e', 'r')}
      }
      RETURN o.runId AS runId, t, a.id AS agentId, costUsd, seq, previousAt, ancestors, isRoot,
             EXISTS { (t)<-[:DEPENDS_ON]-() } AS hasDependants, promotable, evaluated`,
    // Locked in task id order, as every writer that locks several tasks does.
    params: {
      runs: [...outcomes]
        .sort((a, b) => a.taskId.localeCompare(b.taskId))
        .map((o) => ({
          result: null,
          error: null,
          announce: false,
          episode: null,
          ...o,
          evaluation: o.evaluation
            ? { ...evaluationParam(o.evaluation.evaluation), bookedUsd: o.evaluation.bookedUsd }
            : null,
          // Rows of one statement do not reliably see each other's ends (batch.ts).
          promote: outcomes.length === 1 && o.promote === true,
          retryInMs: o.retryInMs == null ? null : neo4j.int(Math.round(o.retryInMs)),
        })),
      now: Date.now(),
      limit: DEPENDANTS_LIMIT,
    },
  });
  const ended = new Map(
    rows.map((row) => {
      const { agentId, isRoot, hasDependants, evaluated } = row;
      const costUsd = Number(row.costUsd ?? 0);
      // The event's columns are all there when it numbered one (seq), all null when not.
      const event = row.seq == null ? null : taskEventOf(row as TaskEventRow);
      const task = event?.task ?? toTask(row.t);
      const promotable = row.promotable && toPromotable(row.promotable);
      const ended = { task, agentId, costUsd, isRoot, hasDependants, event, promotable, evaluated };
      return [row.runId, ended];
    }),
  );
  return outcomes.map((o) => ended.get(o.runId) ?? null);
}

/**
 * Running statistics of the agent's capabilities that the task required (cost: the run's, as
 * endRun read it). `scored`/`scoreSum` add the run's effective evaluation as it stands now (the engine
 * calls this after the run's objective evaluation and the step's writes, a judge's among them),
 * so assignment can weigh judged quality, not only success.
 */
export async function recordPerformance(
  tx: Tx,
  agentId: string,
  taskId: string,
  success: boolean,
  latencyMs: number,
  runId: string,
  runCostUsd: number,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (t:Task {id: $taskId}), (a:Agent {id: $agentId})
      OPTIONAL MATCH (run:Run {id: $runId})-[:OF]->(t)
      CALL (run) { ${effectiveEvaluation('run')} }
      MATCH (t)-[:REQUIRES]->(:Capability)<-[h:HAS_CAPABILITY]-(a)
      SET h.avgCostUsd = (coalesce(h.avgCostUsd, 0.0) * h.runs + $runCostUsd) / (h.runs + 1),
          h.avgLatencyMs = (coalesce(h.avgLatencyMs, 0.0) * h.runs + $latencyMs) / (h.runs + 1),
          h.runs = h.runs + 1,
          h.successes = h.successes + CASE WHEN $success THEN 1 ELSE 0 END,
          h.scored = coalesce(h.scored, 0) + CASE WHEN score IS NULL THEN 0 ELSE 1 END,
          h.scoreSum = coalesce(h.scoreSum, 0.0) + coalesce(score, 0.0)`,
    params: { agentId, taskId, success, latencyMs, runId, runCostUsd },
  });
}

/**
 * An agent stops taking work (deactivated, paused, in error): its queued steps lose the
 * assignment and its running ones go back to READY (the attempt not counted), their runs
 * ABORTED; their workers see the lease is gone and abort the step. Only leaf steps (and a task
 * still to be planned) are released: a parent is not the agent's work, and turning a running
 * parent back into READY made it run as a step while its children still ran (issue 10). Which
 * ones is decided under their locks (id order): a step that ended or became a plan while this
 * waited for it stays as it is.
 */
export async function releaseAgentWork(
  tx: Tx,
  tenantId: string,
  agentId: string,
  reason: string,
): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (agent:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK agent:Agent(id)
      ${assignmentsOf('agent', 'a', 't')}
      WITH DISTINCT agent, t WHERE NOT t.status IN ${FINISHED}
      WITH agent, t ORDER BY t.id
      ${lockAndBump('t', 'Task')}
      WITH agent, t WHERE NOT t.status IN ${FINISHED}
        AND (t.leaseOwner IS NOT NULL OR NOT EXISTS { (t)<-[:SUBTASK_OF]-() })
      MATCH (t)-[a:ASSIGNED_TO]->(agent)
      DELETE a
      WITH DISTINCT t
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
