import neo4j from 'neo4j-driver';
import type { Page, PageRequest, Sort } from '../src/domain/page.js';
import type { Task, TaskPriority, TaskStatus } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { readTask, toTask } from './mappers.js';
import { readPage, type NodeLike } from './page.js';
import { walkFrom, type Linked } from './page-direct.js';
import { projection } from './projections.js';
import { familyOf } from '../src/domain/family.js';
import { lockAndBump } from './locks.js';
import { FINISHED } from './engine-scope.js';

export interface NewTask {
  id: string;
  key: string | null;
  title: string;
  description: string | null;
  priority: TaskPriority;
  createdBy: string | null;
  parentId: string | null;
  dependsOn: string[];
  capabilities: string[];
  delegatedById: string | null;
  maxAttempts: number;
  condition: string | null;
  requiresApproval: boolean;
  failurePolicy: string;
  /** Given by the creator; otherwise the root's family, or for a root its title's. */
  family?: string | null;
  /** What the step should produce (issue 12); absent: none. */
  expectedOutput?: string | null;
}

export interface TaskFilter {
  status?: TaskStatus[];
  priority?: TaskPriority[];
  assigneeId?: string;
  parentId?: string;
  rootsOnly?: boolean;
  capability?: string;
  text?: string;
}

export type TaskPatch = Partial<
  Pick<Task, 'title' | 'description' | 'priority' | 'status' | 'result' | 'error'>
>;

const OPEN = "NOT t.status IN ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']";

/**
 * Creates tasks with their edges. Parents, dependencies and delegating agents must exist
 * (checked by the service first); tasks of the same batch may point at each other.
 */
export async function createTasks(tx: Tx, tenantId: string, tasks: NewTask[]): Promise<Task[]> {
  const created = await tx.run<{ n: unknown }>({
    cypher: `
      UNWIND $tasks AS t
      CREATE (n:Task {id: t.id, tenantId: $tenantId, key: t.key, title: t.title,
                      description: t.description, priority: t.priority, status: 'PENDING',
                      attempts: 0, maxAttempts: t.maxAttempts, condition: t.condition,
                      requiresApproval: t.requiresApproval, failurePolicy: t.failurePolicy,
                      orchestrated: false, createdBy: t.createdBy, family: t.family,
                      expectedOutput: t.expectedOutput, root: CASE WHEN t.parentId IS NULL THEN true END,
                      version: 1, createdAt: datetime(), updatedAt: datetime()})
      WITH n, t
      CALL (n, t) {
        UNWIND t.capabilities AS name
        MERGE (c:Capability {tenantId: $tenantId, name: name})
          ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()
        CREATE (n)-[:REQUIRES]->(c)
      }
      CALL (n, t) {
        MATCH (a:Agent {tenantId: $tenantId, id: t.delegatedById}) USING INDEX SEEK a:Agent(id)
        CREATE (n)-[:DELEGATED_BY]->(a)
      }
      RETURN ${projection('Task').of('n')} AS n`,
    params: {
      tenantId,
      tasks: tasks.map((t) => ({
        ...t,
        maxAttempts: neo4j.int(t.maxAttempts),
        family: t.family ?? familyOf(t.title),
      })),
    },
  });
  // Tasks without edges to others (a submitted task, a root) are as this statement made them.
  if (tasks.every((t) => t.parentId === null && t.dependsOn.length === 0)) {
    return created.map((r) => readTask(r.n));
  }
  // Edges between tasks go second, so a batch may refer to its own members in any order.
  await tx.run({
    cypher: `
      UNWIND $tasks AS t
      MATCH (n:Task {tenantId: $tenantId, id: t.id}) USING INDEX SEEK n:Task(id)
      CALL (n, t) {
        MATCH (p:Task {tenantId: $tenantId, id: t.parentId}) USING INDEX SEEK p:Task(id)
        CREATE (n)-[:SUBTASK_OF]->(p)
      }
      CALL (n, t) {
        UNWIND t.dependsOn AS depId
        MATCH (d:Task {tenantId: $tenantId, id: depId}) USING INDEX SEEK d:Task(id)
        CREATE (n)-[:DEPENDS_ON]->(d)
      }`,
    params: { tenantId, tasks },
  });
  // A step without a family of its own is of its root's (issue 12), once every edge exists.
  const inherit = tasks.filter((t) => t.parentId !== null && !t.family).map((t) => t.id);
  if (inherit.length > 0) {
    await tx.run({
      cypher: `
        UNWIND $ids AS id
        MATCH (n:Task {tenantId: $tenantId, id: id})-[:SUBTASK_OF*1..]->(root:Task) USING INDEX SEEK n:Task(id)
        WHERE root.tenantId = $tenantId AND NOT (root)-[:SUBTASK_OF]->()
        SET n.family = root.family`,
      params: { tenantId, ids: inherit },
    });
  }
  return tasksByIdsInOrder(
    tx,
    tenantId,
    tasks.map((t) => t.id),
  );
}

async function tasksByIdsInOrder(tx: Tx, tenantId: string, ids: string[]): Promise<Task[]> {
  const found = new Map((await tasksByIds(tx, tenantId, ids)).map((t) => [t.id, t]));
  return ids.map((id) => found.get(id)!);
}

/** The parent's id, or null for a root. */
export async function parentOf(tx: Tx, tenantId: string, id: string): Promise<string | null> {
  const [row] = await tx.run<{ id: string }>({
    // Seeks the id's index: on some statistics the planner scanned every task's id instead.
    cypher: `MATCH (t:Task {tenantId: $tenantId, id: $id})-[:SUBTASK_OF]->(p) USING INDEX SEEK t:Task(id)
             RETURN p.id AS id`,
    params: { tenantId, id },
  });
  return row?.id ?? null;
}

/** The ids of the tasks above the task, nearest first. */
export async function ancestorIds(tx: Tx, tenantId: string, id: string): Promise<string[]> {
  const [row] = await tx.run<{ ids: string[] }>({
    cypher: `MATCH (t:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK t:Task(id)
             RETURN COLLECT { MATCH up = (t)-[:SUBTASK_OF*1..]->(a:Task)
                              RETURN a.id ORDER BY length(up) } AS ids`,
    params: { tenantId, id },
  });
  return row?.ids ?? [];
}

/** The step keys of the given tasks (tasks without a key are left out). */
export async function keysOfTasks(
  tx: Tx,
  tenantId: string,
  ids: string[],
): Promise<Map<string, string | null>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.run<{ id: string; key: string | null }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id)
      RETURN t.id AS id, t.key AS key`,
    params: { tenantId, ids },
  });
  return new Map(rows.map((r) => [r.id, r.key]));
}

/** Takes the task's write lock and returns it as it now is; null when unknown. */
export async function lockTask(tx: Tx, tenantId: string, id: string): Promise<Task | null> {
  const [row] = await tx.run<{ n: NodeLike }>({
    cypher: `
      MATCH (n:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Task(id)
      ${lockAndBump('n', 'Task')}
      RETURN n`,
    params: { tenantId, id },
  });
  return row ? toTask(row.n) : null;
}

/** Sets the patch's fields; a task it ends waits for nothing, so its waitingReason goes. */
export async function patchTask(
  tx: Tx,
  tenantId: string,
  id: string,
  patch: TaskPatch,
): Promise<Task> {
  const [row] = await tx.run<{ n: NodeLike }>({
    cypher: `
      MATCH (n:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Task(id)
      SET n += $patch, n.updatedAt = datetime()
      SET n.waitingReason = CASE WHEN n.status IN ${FINISHED} THEN null ELSE n.waitingReason END
      RETURN n`,
    params: { tenantId, id, patch },
  });
  return toTask(row!.n);
}

/** Replaces the task's required capabilities. */
export async function replaceRequirements(
  tx: Tx,
  tenantId: string,
  id: string,
  names: string[],
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (n:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Task(id)
      OPTIONAL MATCH (n)-[old:REQUIRES]->()
      DELETE old
      WITH DISTINCT n
      UNWIND $names AS name
      MERGE (c:Capability {tenantId: $tenantId, name: name})
        ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()
      CREATE (n)-[:REQUIRES]->(c)`,
    params: { tenantId, id, names },
  });
}

/** Points ASSIGNED_TO at the agent (replacing any earlier assignment). */
export async function assign(
  tx: Tx,
  tenantId: string,
  taskId: string,
  agentId: string,
  score: number | null,
  reason: string,
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId})
      USING INDEX SEEK t:Task(id) USING INDEX SEEK a:Agent(id)
      OPTIONAL MATCH (t)-[old:ASSIGNED_TO]->()
      DELETE old
      CREATE (t)-[:ASSIGNED_TO {score: $score, reason: $reason, at: datetime()}]->(a)
      SET t.updatedAt = datetime()`,
    params: { tenantId, taskId, agentId, score, reason },
  });
}

export async function unassign(tx: Tx, tenantId: string, taskId: string): Promise<boolean> {
  const rows = await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId})-[r:ASSIGNED_TO]->()
      USING INDEX SEEK t:Task(id)
      DELETE r
      RETURN 1 AS removed`,
    params: { tenantId, taskId },
  });
  return rows.length > 0;
}

export async function addDependency(tx: Tx, tenantId: string, taskId: string, dependsOnId: string) {
  await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (d:Task {tenantId: $tenantId, id: $dependsOnId})
      USING INDEX SEEK t:Task(id) USING INDEX SEEK d:Task(id)
      MERGE (t)-[:DEPENDS_ON]->(d)
      SET t.updatedAt = datetime()`,
    params: { tenantId, taskId, dependsOnId },
  });
}

export async function removeDependency(
  tx: Tx,
  tenantId: string,
  taskId: string,
  dependsOnId: string,
) {
  await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId})-[r:DEPENDS_ON]->(d:Task {tenantId: $tenantId, id: $dependsOnId})
      USING INDEX SEEK t:Task(id) USING INDEX SEEK d:Task(id)
      DELETE r`,
    params: { tenantId, taskId, dependsOnId },
  });
}

/**
 * Unfinished descendants (through SUBTASK_OF), deepest first, walked down from the root: in one
 * pattern, where Task statistics said few, the planner scanned every tenant's tasks by status.
 */
export async function openDescendantIds(tx: Tx, tenantId: string, id: string): Promise<string[]> {
  const rows = await tx.run<{ id: string }>({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK root:Task(id)
      CALL (root) {
        MATCH p = (root)<-[:SUBTASK_OF*1..]-(t:Task)
        RETURN t, p
      }
      WITH t, p WHERE ${OPEN}
      RETURN t.id AS id, max(length(p)) AS depth
      ORDER BY depth DESC, id`,
    params: { tenantId, id },
  });
  return rows.map((r) => r.id);
}

/** For the DataLoader: tasks by id, any order; unknown ids are simply absent. */
export async function tasksByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Task[]> {
  const rows = await tx.run<{ n: unknown }>({
    cypher: `UNWIND $ids AS id MATCH (n:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK n:Task(id) RETURN ${projection('Task').of('n')} AS n`,
    params: { tenantId, ids },
  });
  return rows.map((r) => readTask(r.n));
}

export async function taskCounts(
  tx: Tx,
  tenantId: string,
): Promise<{ status: string; count: number }[]> {
  return tx.run({
    // By the (tenantId, status) index: a plain match scanned every tenant's tasks.
    cypher: `
      MATCH (t:Task) USING INDEX SEEK t:Task(tenantId, status)
      WHERE t.tenantId = $tenantId AND t.status IS NOT NULL
      RETURN t.status AS status, count(t) AS count ORDER BY status`,
    params: { tenantId },
  });
}

const BY_ASSIGNEE: Linked = {
  from: { label: 'Agent', id: 'assigneeId' },
  edges: ['<-[:ASSIGNED_TO]-'],
  test: 'EXISTS { (n)-[:ASSIGNED_TO]->(a) WHERE a.id = $assigneeId }',
};

const BY_CAPABILITY: Linked = {
  from: { label: 'Capability', id: 'capability', by: 'name' },
  edges: ['<-[:REQUIRES]-'],
  test: 'EXISTS { (n)-[:REQUIRES]->(c) WHERE c.name = $capability }',
};

export function listTasks(
  tx: Tx,
  tenantId: string,
  filter: TaskFilter,
  sort: Sort,
  page: PageRequest,
): Promise<Page<Task>> {
  const conditions: string[] = [];
  if (filter.status?.length) conditions.push('n.status IN $status');
  if (filter.priority?.length) conditions.push('n.priority IN $priority');
  if (filter.text) {
    conditions.push(
      '(toLower(n.title) CONTAINS toLower($text) OR toLower(coalesce(n.description, "")) CONTAINS toLower($text))',
    );
  }
  return readPage(
    tx,
    {
      label: 'Task',
      // A parent's steps from the parent (page-direct.ts: walkFrom; a pattern predicate
      // besides could be planned as a scan of every task's id).
      match: filter.parentId
        ? walkFrom({ label: 'Task', id: 'parentId' }, '<-[:SUBTASK_OF]-', 'Task')
        : undefined,
      // A few statuses' or priorities' tasks from their index when they are few (page-direct.ts:
      // OneOf); with both, the statuses'.
      oneOf: filter.status?.length
        ? { property: 'status', param: 'status' }
        : filter.priority?.length
          ? { property: 'priority', param: 'priority' }
          : undefined,
      // Roots carry `root` from their creation (no parent; page.ts: FLAGGED_LISTS).
      flag: filter.rootsOnly ? 'root' : undefined,
      // An assignee's or a capability's tasks from it when it has few (page-direct.ts: Linked).
      linked: [filter.assigneeId && BY_ASSIGNEE, filter.capability && BY_CAPABILITY].filter(
        (linked) => !!linked,
      ),
      conditions,
      params: { tenantId, ...filter },
      sort,
      page,
    },
    toTask,
  );
}
