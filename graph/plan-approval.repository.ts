import neo4j from 'neo4j-driver';
import { SKIPPED_BECAUSE, type Task, type TaskPriority } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { FINISHED } from './engine-scope.js';
import { lockAndBump } from './locks.js';

/**
 * Plan approval (issue 13): a submitted task's plan waits (the root AWAITING_APPROVAL, its
 * steps PENDING: promotion moves no step under a parent that is not IN_PROGRESS) until a person
 * approves it, with edits, or rejects it. The hold itself is written by writePlan
 * (agent-work.repository.ts) when the root has `planApproval`, which submitTask sets
 * (workflow.repository.ts: handToChief).
 */

export interface PlanStepRow {
  id: string;
  key: string;
  title: string;
  description: string | null;
  priority: TaskPriority;
  condition: string | null;
  status: string;
  capabilities: string[];
  /** Keys of the steps it depends on. */
  dependsOn: string[];
}

/**
 * The steps under a root (its plan), the synthesis step included, in key order, each read under
 * its lock (taken in id order): the edits are written from this read, so a person's change to a
 * step committed meanwhile (updateTask) is read, not written over.
 */
export async function planSteps(tx: Tx, tenantId: string, rootId: string): Promise<PlanStepRow[]> {
  return tx.run<PlanStepRow & Record<string, unknown>>({
    cypher: `
      MATCH (s:Task {tenantId: $tenantId})-[:SUBTASK_OF]->(root:Task {tenantId: $tenantId, id: $rootId})
      USING INDEX SEEK root:Task(id)
      WITH s, root ORDER BY s.id
      ${lockAndBump('s', 'Task')}
      RETURN s.id AS id, s.key AS key, s.title AS title, s.description AS description,
             s.priority AS priority, s.condition AS condition, s.status AS status,
             COLLECT { MATCH (s)-[:REQUIRES]->(c:Capability) RETURN c.name ORDER BY c.name } AS capabilities,
             COLLECT { MATCH (s)-[:DEPENDS_ON]->(d:Task)-[:SUBTASK_OF]->(root) RETURN d.key ORDER BY d.key } AS dependsOn
      ORDER BY key`,
    params: { tenantId, rootId },
  });
}

export interface StepWrite {
  /** An existing step's id, or a new one's. */
  id: string;
  key: string;
  title: string;
  description: string | null;
  priority: TaskPriority;
  condition: string | null;
  capabilities: string[];
  /** Ids of the steps it depends on. */
  dependsOn: string[];
}

export interface PlanEditsWrite {
  /** Steps whose fields, capabilities and dependencies become these. */
  update: StepWrite[];
  /** New steps, PENDING, created by `actor`. */
  create: StepWrite[];
  /**
   * Steps removed from the plan: SKIPPED with the reason, never run (one ended stays so), and
   * marked removedFromPlan, so a CANCELLED one no longer settles the root (settlement).
   */
  remove: string[];
  /** The synthesis step, which then waits for exactly these steps. */
  synthesisId: string;
  liveStepIds: string[];
  actor: string;
}

/**
 * A step `t`'s dependencies on steps of the plan under `$rootId`, as `r`: the plan's own. A
 * dependency on a task outside it (a person's sign-off, addTaskDependency) is not the plan's,
 * and an edit of the plan keeps it.
 */
const PLAN_DEPENDENCIES = `MATCH (t)-[r:DEPENDS_ON]->(:Task)-[:SUBTASK_OF]->(:Task {id: $rootId})`;

/**
 * Writes a person's edits to a waiting plan, all in the caller's transaction. The plan's own
 * dependencies of changed and new steps, and the synthesis's, are replaced whole.
 */
export async function writePlanEdits(
  tx: Tx,
  tenantId: string,
  rootId: string,
  w: PlanEditsWrite,
): Promise<void> {
  if (w.create.length > 0) {
    await tx.run({
      cypher: `
        MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
        OPTIONAL MATCH (root)-[:ASSIGNED_TO]->(cos:Agent {tenantId: $tenantId})
        UNWIND $rows AS s
        CREATE (t:Task {id: s.id, tenantId: $tenantId, key: s.key, title: s.title,
                        description: s.description, priority: s.priority, status: 'PENDING',
                        attempts: 0, maxAttempts: 3, condition: s.condition,
                        requiresApproval: false, failurePolicy: 'FAIL_FAST', orchestrated: true,
                        createdBy: $actor, version: 1, family: root.family,
                        createdAt: datetime(), updatedAt: datetime()})
        MERGE (t)-[:SUBTASK_OF]->(root)
        FOREACH (_ IN CASE WHEN cos IS NULL THEN [] ELSE [1] END | MERGE (t)-[:DELEGATED_BY]->(cos))`,
      params: { tenantId, rootId, rows: w.create, actor: w.actor },
    });
  }
  const rows = [...w.update, ...w.create];
  if (rows.length > 0) {
    await tx.run({
      cypher: `
        UNWIND $rows AS s
        MATCH (t:Task {tenantId: $tenantId, id: s.id}) USING INDEX SEEK t:Task(id)
        SET t.title = s.title, t.description = s.description, t.priority = s.priority,
            t.condition = s.condition, t.updatedAt = datetime()
        WITH t, s
        CALL (t) { MATCH (t)-[r:REQUIRES]->() DELETE r }
        CALL (t) { ${PLAN_DEPENDENCIES} DELETE r }
        CALL (t, s) {
          UNWIND s.capabilities AS name
          MERGE (c:Capability {tenantId: $tenantId, name: name})
            ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()
          MERGE (t)-[:REQUIRES]->(c)
        }
        CALL (t, s) {
          UNWIND s.dependsOn AS depId
          MATCH (d:Task {tenantId: $tenantId, id: depId}) USING INDEX SEEK d:Task(id)
          MERGE (t)-[:DEPENDS_ON]->(d)
        }`,
      params: { tenantId, rootId, rows },
    });
  }
  await tx.run({
    cypher: `
      MATCH (syn:Task {tenantId: $tenantId, id: $synthesisId}) USING INDEX SEEK syn:Task(id)
      CALL (syn) { WITH syn AS t ${PLAN_DEPENDENCIES} DELETE r }
      WITH syn
      UNWIND $live AS depId
      MATCH (d:Task {tenantId: $tenantId, id: depId}) USING INDEX SEEK d:Task(id)
      MERGE (syn)-[:DEPENDS_ON]->(d)`,
    params: { tenantId, rootId, synthesisId: w.synthesisId, live: w.liveStepIds },
  });
  if (w.remove.length > 0) {
    await tx.run({
      cypher: `
        UNWIND $ids AS id
        MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id)
        SET t.removedFromPlan = true
        WITH t WHERE NOT t.status IN ${FINISHED}
        SET t.status = 'SKIPPED', t.error = $reason, t.version = t.version + 1,
            t.updatedAt = datetime()`,
      params: { tenantId, ids: w.remove, reason: `${SKIPPED_BECAUSE.removedFromPlan}${w.actor}` },
    });
  }
}

/** The root of an approved plan runs: IN_PROGRESS, its waiting reason cleared. */
export async function releasePlan(tx: Tx, tenantId: string, rootId: string): Promise<Task> {
  const [row] = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK t:Task(id)
      WHERE t.status = 'AWAITING_APPROVAL'
      SET t.status = 'IN_PROGRESS', t.waitingReason = null, t.version = t.version + 1,
          t.updatedAt = datetime()
      RETURN t`,
    params: { tenantId, rootId },
  });
  return toTask(row!.t);
}

/**
 * A rejected plan: its steps CANCELLED (`error` says why), moved off the root
 * (`(:Task)-[:REJECTED_STEP_OF {round}]->(root)`, so settling, retrying and the next plan never
 * see them), and the root READY to be planned again with the person's reason, its attempts
 * given back and a new plan round (writePlan's ids). Returns the cancelled steps, read before
 * they left the root so their events reach the root's subscribers.
 */
export async function cancelPlanSteps(
  tx: Tx,
  tenantId: string,
  rootId: string,
  error: string,
): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId})-[:SUBTASK_OF]->(root:Task {tenantId: $tenantId, id: $rootId})
      USING INDEX SEEK root:Task(id)
      SET t.status = 'CANCELLED', t.error = $error, t.version = t.version + 1,
          t.updatedAt = datetime()
      RETURN t ORDER BY t.id`,
    params: { tenantId, rootId, error },
  });
  return rows.map((r) => toTask(r.t));
}

export async function replan(
  tx: Tx,
  tenantId: string,
  rootId: string,
  feedback: string,
): Promise<Task> {
  const [row] = await tx.run<{ root: NodeLike }>({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
      WHERE root.status = 'AWAITING_APPROVAL'
      CALL (root) {
        MATCH (t:Task {tenantId: $tenantId})-[r:SUBTASK_OF]->(root)
        DELETE r
        MERGE (t)-[:REJECTED_STEP_OF {round: coalesce(root.planRound, 0)}]->(root)
      }
      SET root.status = 'READY', root.waitingReason = null, root.attempts = 0,
          root.planRound = coalesce(root.planRound, 0) + 1, root.planFeedback = $feedback,
          root.version = root.version + 1, root.updatedAt = datetime()
      RETURN root`,
    params: { tenantId, rootId, feedback },
  });
  return toTask(row!.root);
}

/**
 * Who delegates the steps a person added, and to whom: the root's Chief of Staff (its
 * assignee) and, per capability, the `perCapability` least busy of the tenant's active Master
 * Operators that have it (fewest steps running, then by name, as src/agents/team.ts orders).
 */
export async function delegationTargets(
  tx: Tx,
  tenantId: string,
  rootId: string,
  capabilities: string[],
  perCapability: number,
): Promise<{ chiefId: string | null; holders: Record<string, string[]> }> {
  const [row] = await tx.run<{
    chiefId: string | null;
    holders: { name: string; ids: string[] }[];
  }>({
    cypher: `
        MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
        OPTIONAL MATCH (root)-[:ASSIGNED_TO]->(cos:Agent {tenantId: $tenantId})
        RETURN cos.id AS chiefId,
               [name IN $capabilities | {name: name, ids: COLLECT {
                 MATCH (a:Agent {tenantId: $tenantId, role: 'MASTER_OPERATOR', active: true})
                       -[:HAS_CAPABILITY]->(:Capability {tenantId: $tenantId, name: name})
                 WITH a, COUNT { (:Task {tenantId: $tenantId, status: 'IN_PROGRESS'})-[:ASSIGNED_TO]->(a) } AS load
                 RETURN a.id ORDER BY load, a.name LIMIT $perCapability }}] AS holders`,
    params: { tenantId, rootId, capabilities, perCapability: neo4j.int(perCapability) },
  });
  const holders: Record<string, string[]> = {};
  for (const h of row?.holders ?? []) holders[h.name] = h.ids;
  return { chiefId: row?.chiefId ?? null, holders };
}
