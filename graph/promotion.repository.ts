import neo4j from 'neo4j-driver';
import type { Task, TaskStatus } from '../src/domain/task.js';
import { batched } from './batch.js';
import type { Tx } from './cypher.js';
import { FINISHED, scopedTasks, type TenantScope } from './engine-scope.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';

/**
 * Promotion: which PENDING steps may move now (their parent runs, their dependencies ended),
 * and the guarded status change that moves tasks, also used by settling, the orphan sweep and
 * approvals.
 */

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

// Far ends unlabeled (SUBTASK_OF and DEPENDS_ON join tasks only): a labeled end with a status
// predicate lets the planner start from the status index instead of from t (engine-scope.ts).
// Names no caller's MATCH uses: a WITH's WHERE sees the variables bound before it, so a `dep`
// bound by the caller would be the one dependency checked (it promoted steps too early).
const READY_TO_MOVE = `
  WITH t WHERE NOT EXISTS { (t)-[:SUBTASK_OF]->(parent) WHERE parent.status <> 'IN_PROGRESS' }
    AND NOT EXISTS { (t)-[:DEPENDS_ON]->(dep) WHERE NOT dep.status IN ${FINISHED} }`;
const PROMOTABLE = `${READY_TO_MOVE}
  WITH t LIMIT $limit
  OPTIONAL MATCH (t)-[:DEPENDS_ON]->(d)
  WITH t, collect(CASE WHEN d IS NULL THEN null ELSE {key: d.key, status: d.status, result: d.result} END) AS deps
  RETURN t, EXISTS { (t)<-[:SUBTASK_OF]-() } AS hasChildren, deps`;

export type PromotableRow = { t: NodeLike; hasChildren: boolean; deps: DependencyState[] };

/**
 * The PENDING dependants of `ended` that may move now, as rows of `t, hasChildren, deps`: each
 * is locked (in id order) before its dependencies are read. For a CALL (ended) { ... }.
 */
export const DEPENDANTS_TO_PROMOTE = (ended: string) => `
  MATCH (${ended})<-[:DEPENDS_ON]-(t {status: 'PENDING', orchestrated: true})
  WITH t ORDER BY t.id SET t:Task
  WITH t WHERE t.status = 'PENDING' ${PROMOTABLE}`;

/** The `limit` DEPENDANTS_TO_PROMOTE takes: every dependant a step may have. */
export const DEPENDANTS_LIMIT = neo4j.int(1_000);

// Each reader sends its own statement, so metrics and traces tell the tick's scan from a step
// end's promotion (graph/statement-name.ts names a statement after the function that sent it).
export const toPromotable = (rows: PromotableRow[]): Promotable[] =>
  rows.map((r) => ({ task: toTask(r.t), hasChildren: r.hasChildren, dependencies: r.deps }));

/** PENDING orchestrated tasks whose parent runs (or that have none) and whose dependencies all ended. */
export async function promotableTasks(
  tx: Tx,
  limit: number,
  tenants: TenantScope = null,
): Promise<Promotable[]> {
  const rows = await tx.run<PromotableRow>({
    cypher: `${scopedTasks('t', ['PENDING'], tenants)} AND t.orchestrated = true ${PROMOTABLE}`,
    params: { limit: neo4j.int(limit), tenants },
  });
  return toPromotable(rows);
}

/**
 * Whether promotableTasks would find any, reading no row: the scheduler's tick looks first,
 * one round trip, and leaves a row the mappers refuse to the write that quarantines it.
 */
export async function anyPromotable(tx: Tx, tenants: TenantScope = null): Promise<boolean> {
  const rows = await tx.run({
    cypher: `${scopedTasks('t', ['PENDING'], tenants)} AND t.orchestrated = true
      ${READY_TO_MOVE}
      RETURN true AS found LIMIT 1`,
    params: { tenants },
  });
  return rows.length > 0;
}

/**
 * The same, among the PENDING dependants of one task: what its ending may have unblocked. Each
 * dependant is locked (in id order) before its dependencies are read, so of two dependencies
 * ending at once in two transactions the second to lock it sees the first's end: one of them
 * promotes it. The ends of a group commit read theirs in one statement, after all their ends.
 */
export function promotableDependants(tx: Tx, taskId: string): Promise<Promotable[]> {
  // Reads only (and locks): the same dependant read for two ends is read the same for both.
  return batched(tx, promotableDependantBatch, taskId, []);
}

async function promotableDependantBatch(tx: Tx, taskIds: string[]): Promise<Promotable[][]> {
  const rows = await tx.run<PromotableRow & { endedId: string }>({
    cypher: `UNWIND $taskIds AS endedId
     CALL (endedId) {
       MATCH (ended:Task {id: endedId}) USING INDEX SEEK ended:Task(id)
       ${DEPENDANTS_TO_PROMOTE('ended')}
     }
     RETURN endedId, t, hasChildren, deps`,
    params: { taskIds, limit: DEPENDANTS_LIMIT },
  });
  return taskIds.map((id) => toPromotable(rows.filter((r) => r.endedId === id)));
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
 * in `from` (another worker may have moved it first). Returns the tasks it changed. Calls
 * made at once on one transaction (a group commit's ends) share a statement.
 */
export function changeStatuses(tx: Tx, changes: StatusChange[]): Promise<Task[]> {
  if (changes.length === 0) return Promise.resolve([]);
  return batched(tx, changeStatusBatch, changes, []);
}

type NumberedChange = StatusChange & { call: number };

async function changeStatusBatch(tx: Tx, calls: StatusChange[][]): Promise<Task[][]> {
  const changes = distinctChanges(calls);
  if (!changes) {
    const inTurn: Task[][] = [];
    for (const one of calls) inTurn.push((await changeStatusBatch(tx, [one]))[0]!);
    return inTurn;
  }
  const rows = await tx.run<{ t: NodeLike; call: number }>({
    cypher: `
      UNWIND $changes AS c
      MATCH (t:Task {id: c.id}) USING INDEX SEEK t:Task(id)
      ${lockAndBump('t', 'Task')}
      WITH t, c WHERE t.status = c.from
      SET t.status = c.to, t.updatedAt = datetime(),
          t.error = CASE WHEN c.error IS NULL THEN t.error ELSE c.error END,
          t.result = CASE WHEN c.result IS NULL THEN t.result ELSE c.result END,
          t.waitingReason = CASE WHEN c.to IN ${FINISHED} THEN null ELSE t.waitingReason END
      RETURN t, c.call AS call`,
    // A task it ends waits for nothing (a budget-waiting step rejected kept its reason).
    // One lock order for every writer (by id): two workers promoting overlapping sets of
    // dependants otherwise deadlock on each other's locks.
    params: {
      changes: changes
        .map((c) => ({ error: null, result: null, ...c }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    },
  });
  const out = calls.map((): Task[] => []);
  for (const r of rows) out[Number(r.call)]!.push(toTask(r.t));
  return out;
}

/**
 * The calls' changes as one statement's rows. A task's change that an earlier call makes from
 * the same status would change nothing after it (the earlier one moved the task, or found it
 * elsewhere), so it is left out: two ends that unblock one dependant both ask to promote it.
 * Any other repeat across calls: null, and the calls run one after another, as they would alone.
 */
function distinctChanges(calls: StatusChange[][]): NumberedChange[] | null {
  const first = new Map<string, NumberedChange>();
  const rows: NumberedChange[] = [];
  for (const [call, changes] of calls.entries()) {
    for (const c of changes) {
      const earlier = first.get(c.id);
      if (earlier && earlier.call !== call) {
        if (earlier.from !== c.from || earlier.to === earlier.from) return null;
        continue;
      }
      const row = { ...c, call };
      if (!earlier) first.set(c.id, row);
      rows.push(row);
    }
  }
  return rows;
}
