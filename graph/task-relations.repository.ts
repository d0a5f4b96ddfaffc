import neo4j from 'neo4j-driver';
import type { Agent } from '../src/domain/agent.js';
import { TaskStatus, type Task } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import {
  readAgent,
  readTask,
  taskPropertiesOnly,
  taskReader,
  toAgentFields,
  type AgentProperty,
} from './mappers.js';
import { DIRECT_LIMIT } from './page-direct.js';
import { projection } from './projections.js';

/**
 * What the nested fields of a task and an agent load in batches (DataLoaders,
 * src/loaders/task.loaders.ts).
 */

/** Task-to-task relations a field may load; the only patterns spliced into relatedTasks. */
const RELATIONS = {
  subtasks: '(n)<-[:SUBTASK_OF]-(m:Task)',
  parent: '(n)-[:SUBTASK_OF]->(m:Task)',
  dependencies: '(n)-[:DEPENDS_ON]->(m:Task)',
  dependents: '(n)<-[:DEPENDS_ON]-(m:Task)',
} as const;
export type TaskRelation = keyof typeof RELATIONS;

/** For loaders: the tasks related to each of `ids`, oldest first. */
export async function relatedTasks(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  relation: TaskRelation,
): Promise<{ ownerId: string; task: Task }[]> {
  const pattern = RELATIONS[relation];
  const rows = await tx.run<{ ownerId: string; m: unknown }>({
    cypher: `
      UNWIND $ids AS ownerId
      MATCH (n:Task {tenantId: $tenantId, id: ownerId}) USING INDEX SEEK n:Task(id)
      MATCH ${pattern}
      WITH ownerId, m ORDER BY m.createdAt, m.id
      RETURN ownerId, ${projection('Task').of('m')} AS m`,
    params: { tenantId, ids },
  });
  return rows.map((r) => ({ ownerId: r.ownerId, task: readTask(r.m) }));
}

export interface Assignment {
  taskId: string;
  agent: Agent;
  score: number | null;
  reason: string | null;
  assignedAt: string | null;
}

/**
 * An ASSIGNED_TO relationship `r` to agent `a` as one list, read by toAssignment: with `only`,
 * of the agent just those properties (and its id).
 */
const assignmentOf = (only: readonly AgentProperty[] | null = null) =>
  `[${projection('Agent', only).of('a')}, r.score, r.reason, toString(r.at)]`;
type AssignmentRow = [agent: unknown, score: number | null, reason: string | null, at: unknown];

function toAssignment(
  taskId: string,
  [a, score, reason, at]: AssignmentRow,
  only: readonly AgentProperty[] | null = null,
): Assignment {
  return {
    taskId,
    agent: only ? toAgentFields(projection('Agent', only).node(a), only) : readAgent(a),
    score: score ?? null,
    reason: reason ?? null,
    assignedAt: at ? new Date(String(at)).toISOString() : null,
  };
}

export async function assignmentsByTaskIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Assignment[]> {
  const rows = await tx.run<{ taskId: string; assignment: AssignmentRow }>({
    cypher: `
      UNWIND $ids AS taskId
      MATCH (owner:Task {tenantId: $tenantId, id: taskId})-[r:ASSIGNED_TO]->(a:Agent) USING INDEX SEEK owner:Task(id)
      RETURN taskId, ${assignmentOf()} AS assignment`,
    params: { tenantId, ids },
  });
  return rows.map((r) => toAssignment(r.taskId, r.assignment));
}

/** What a read of one task also fetches, in the same statement (taskWithRelations). */
export interface TaskLookahead {
  relations: readonly TaskRelation[];
  assignment: boolean;
  /** Of the task and of each relation's tasks, the only properties to read (absent: all). */
  only?: Partial<Record<'task' | TaskRelation, readonly (keyof Task)[]>>;
  /** Of the assigned agent, the only properties to read (absent: all; toAgentFields). */
  assigneeOnly?: readonly AgentProperty[];
}

/**
 * One task with the relations its query selects, in one statement: resolved field by field,
 * a one-task read took four round trips (the task, then its assignment and relations), where
 * @neo4j/graphql makes one (issue 15). Rows are those of relatedTasks and assignmentsByTaskIds,
 * in their order, of only the properties `ahead.only` names where it names some (toTaskFields),
 * and of the assigned agent those `ahead.assigneeOnly` names (toAgentFields). Null when the
 * tenant has no such task.
 */
export async function taskWithRelations(
  tx: Tx,
  tenantId: string,
  id: string,
  ahead: TaskLookahead,
): Promise<{
  task: Task;
  related: Partial<Record<TaskRelation, Task[]>>;
  assignments: Assignment[] | null;
} | null> {
  // Only RELATIONS' own patterns are spliced in, as in relatedTasks.
  const only = ahead.only ?? {};
  const lists = ahead.relations.map(
    (relation) => `,
      COLLECT { MATCH ${RELATIONS[relation]} WITH m ORDER BY m.createdAt, m.id
                RETURN ${projection('Task', only[relation]).of('m')} } AS ${relation}`,
  );
  const assigneeOnly = ahead.assigneeOnly ?? null;
  const assignment = ahead.assignment
    ? `, COLLECT { MATCH (n)-[r:ASSIGNED_TO]->(a:Agent) RETURN ${assignmentOf(assigneeOnly)} } AS assignments`
    : '';
  const [row] = await tx.run<Record<string, unknown>>({
    cypher: `
      MATCH (n:Task {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Task(id)
      RETURN ${projection('Task', only.task).of('n')} AS n${lists.join('')}${assignment}`,
    params: { tenantId, id },
  });
  if (!row) return null;
  const related: Partial<Record<TaskRelation, Task[]>> = {};
  for (const relation of ahead.relations)
    related[relation] = (row[relation] as unknown[]).map(taskReader(only[relation]));
  const assignments = ahead.assignment
    ? (row.assignments as AssignmentRow[]).map((a) => toAssignment(id, a, assigneeOnly))
    : null;
  return { task: taskReader(only.task)(row.n), related, assignments };
}

export async function requirementsByTaskIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<{ taskId: string; name: string }[]> {
  return tx.run<{ taskId: string; name: string }>({
    cypher: `
      UNWIND $ids AS taskId
      MATCH (owner:Task {tenantId: $tenantId, id: taskId})-[:REQUIRES]->(c:Capability) USING INDEX SEEK owner:Task(id)
      RETURN taskId, c.name AS name ORDER BY name`,
    params: { tenantId, ids },
  });
}

export async function delegatorsByTaskIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<{ taskId: string; agent: Agent }[]> {
  const rows = await tx.run<{ taskId: string; a: unknown }>({
    cypher: `
      UNWIND $ids AS taskId
      MATCH (owner:Task {tenantId: $tenantId, id: taskId})-[:DELEGATED_BY]->(a:Agent) USING INDEX SEEK owner:Task(id)
      RETURN taskId, ${projection('Agent').of('a')} AS a`,
    params: { tenantId, ids },
  });
  return rows.map((r) => ({ taskId: r.taskId, agent: readAgent(r.a) }));
}

/**
 * An agent holding more tasks than this has its newest looked for among the tenant's newest
 * (busyAgentsTasks): reading DIRECT_LIMIT of those costs about what walking twice as many of
 * an agent's tasks does (measured: ~4 db hits and ~2 µs a row against ~4 hits and ~1 µs).
 */
export const BUSY_AGENT_TASKS = 2 * DIRECT_LIMIT;

/** Whether agent `a` holds more than BUSY_AGENT_TASKS tasks (its degree: a count kept). */
export const isBusyAgent = (a: string) =>
  `COUNT { (${a})<-[:ASSIGNED_TO]-() } > ${BUSY_AGENT_TASKS}`;

/**
 * Agent `a`'s assigned tasks, newest first, at most $taskLimit, of $statuses unless that is
 * null, as projections of `fields` (all properties when null): for agent.tasks, batched here
 * or with a page of agents (listAgents). Read from the agent and sorted, which costs all of
 * its tasks: none for an agent that isBusyAgent (a Chief of Staff is given every root task),
 * unless `busyToo`: theirs are read by busyAgentsTasks.
 */
export function assignedTasksOf(
  a: string,
  fields: readonly (keyof Task)[] | null,
  busyToo = false,
): string {
  return `COLLECT {${busyToo ? '' : `\n        WITH ${a} WHERE NOT ${isBusyAgent(a)}`}
        MATCH (${a})<-[:ASSIGNED_TO]-(t:Task)
        WHERE $statuses IS NULL OR t.status IN $statuses
        WITH t ORDER BY t.createdAt DESC, t.id DESC LIMIT $taskLimit
        RETURN ${projection('Task', fields).of('t')}
      }`;
}

/** The parameters of assignedTasksOf. */
export const assignedTasksParams = (statuses: TaskStatus[] | null, limit: number) => ({
  statuses,
  taskLimit: neo4j.int(limit),
});

type AgentTasks = { agentId: string; task: Task }[];

/** Rows of an agent's id and its tasks' projections (of `fields`), as AgentTasks. */
function agentTasksOf(
  rows: { agentId: string; tasks: unknown[] }[],
  fields: readonly (keyof Task)[] | null,
): AgentTasks {
  const read = taskReader(fields);
  return rows.flatMap((r) => r.tasks.map((t) => ({ agentId: r.agentId, task: read(t) })));
}

/**
 * For agent.tasks: each agent's assigned tasks, newest first, at most `limit` each; with
 * `selected` fields that are all properties, only those properties of each (toTaskFields).
 */
export async function tasksByAssigneeIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  statuses: TaskStatus[] | null,
  limit: number,
  selected: readonly string[] | null = null,
): Promise<AgentTasks> {
  const fields = taskPropertiesOnly(selected);
  const rows = await tx.run<{ agentId: string; busy: boolean; tasks: unknown[] }>({
    cypher: `
      UNWIND $ids AS agentId
      MATCH (a:Agent {tenantId: $tenantId, id: agentId}) USING INDEX SEEK a:Agent(id)
      RETURN agentId, ${isBusyAgent('a')} AS busy, ${assignedTasksOf('a', fields)} AS tasks`,
    params: { tenantId, ids, ...assignedTasksParams(statuses, limit) },
  });
  const busy = rows.filter((r) => r.busy).map((r) => r.agentId);
  const tasks = busy.length
    ? await busyAgentsTasks(tx, tenantId, busy, statuses, limit, fields)
    : [];
  return agentTasksOf(rows, fields).concat(tasks);
}

/**
 * assignedTasksOf for agents that isBusyAgent: reading all of a busy agent's tasks for a page
 * of them costs every one. Their newest are looked for among the tenant's DIRECT_LIMIT newest
 * tasks, read once for all of them in the order of the (tenantId, createdAt) index; an agent
 * with fewer than `limit` there (long idle, or few tasks of `statuses`) has all of its read.
 */
export async function busyAgentsTasks(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  statuses: TaskStatus[] | null,
  limit: number,
  fields: readonly (keyof Task)[] | null,
): Promise<AgentTasks> {
  const params = { tenantId, ids, ...assignedTasksParams(statuses, limit) };
  const recent = await tx.run<{ agentId: string; tasks: unknown[] }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId}) USING INDEX SEEK t:Task(tenantId, createdAt)
      WHERE t.createdAt IS NOT NULL
      WITH t ORDER BY t.tenantId DESC, t.createdAt DESC, t.id DESC LIMIT ${DIRECT_LIMIT}
      MATCH (t)-[:ASSIGNED_TO]->(a:Agent)
      WHERE a.id IN $ids AND ($statuses IS NULL OR t.status IN $statuses)
      WITH a.id AS agentId, collect(t) AS mine
      WHERE size(mine) >= $taskLimit
      RETURN agentId, COLLECT {
        UNWIND mine AS t
        WITH t ORDER BY t.createdAt DESC, t.id DESC LIMIT $taskLimit
        RETURN ${projection('Task', fields).of('t')}
      } AS tasks`,
    params,
  });
  const found = new Set(recent.map((r) => r.agentId));
  const rest = ids.filter((id) => !found.has(id));
  const walked = rest.length
    ? await tx.run<{ agentId: string; tasks: unknown[] }>({
        cypher: `
          UNWIND $ids AS agentId
          MATCH (a:Agent {tenantId: $tenantId, id: agentId}) USING INDEX SEEK a:Agent(id)
          RETURN agentId, ${assignedTasksOf('a', fields, true)} AS tasks`,
        params: { ...params, ids: rest },
      })
    : [];
  return agentTasksOf([...recent, ...walked], fields);
}

type StatusCounts = { agentId: string; status: string; count: number }[];

/**
 * Task counts by status, per agent (for agent.taskCounts), from each agent's tasks: none for an
 * agent that isBusyAgent, whose counts busyAgentsTaskCounts reads.
 */
export async function taskCountsByAssigneeIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<StatusCounts> {
  const rows = await tx.run<{
    agentId: string;
    tasks: number | null;
    status: string | null;
    count: number | null;
  }>({
    cypher: `
      UNWIND $ids AS agentId
      MATCH (a:Agent {tenantId: $tenantId, id: agentId}) USING INDEX SEEK a:Agent(id)
      WITH agentId, a, ${isBusyAgent('a')} AS busy
      OPTIONAL CALL (a, busy) {
        WITH a WHERE NOT busy
        MATCH (a)<-[:ASSIGNED_TO]-(t:Task)
        RETURN t.status AS status, count(t) AS count
      }
      RETURN agentId, CASE WHEN busy THEN COUNT { (a)<-[:ASSIGNED_TO]-() } END AS tasks,
             status, count`,
    params: { tenantId, ids },
  });
  const busy = new Map(rows.flatMap((r) => (r.tasks === null ? [] : [[r.agentId, r.tasks]])));
  const counted = rows.flatMap(({ agentId, status, count }) =>
    status === null || !count ? [] : [{ agentId, status, count }],
  );
  const more = busy.size ? await busyAgentsTaskCounts(tx, tenantId, busy) : [];
  return [...counted, ...more].sort((x, y) => (x.status < y.status ? -1 : +(x.status > y.status)));
}

/** Statuses busyAgentsTaskCounts reads from the tenant's index: all but COMPLETED, most tasks'. */
const COUNTED_STATUSES = Object.values(TaskStatus).filter((s) => s !== TaskStatus.COMPLETED);

/**
 * Counts for agents that isBusyAgent (`busy`: each one's tasks): counting them costs all of
 * them. The tenant's tasks of COUNTED_STATUSES are read once from the (tenantId, status) index
 * instead, and each agent's COMPLETED count is what its degree (a count the store keeps; only
 * tasks are ASSIGNED_TO an agent) leaves (a task without a status, which no API write leaves,
 * counts as COMPLETED). Where the tenant holds more of those than the agents hold tasks, the
 * read stops there and the agents' tasks are walked (twice the work at worst).
 */
async function busyAgentsTaskCounts(
  tx: Tx,
  tenantId: string,
  busy: ReadonlyMap<string, number>,
): Promise<StatusCounts> {
  const most = [...busy.values()].reduce((sum, tasks) => sum + tasks, 0);
  const [row] = await tx.run<{ within: boolean; counts: StatusCounts }>({
    cypher: `
      MATCH (t:Task) USING INDEX SEEK t:Task(tenantId, status)
      WHERE t.tenantId = $tenantId AND t.status IN $statuses
      WITH t LIMIT $few
      WITH collect(t) AS others
      RETURN size(others) <= $most AS within, COLLECT {
        UNWIND others AS t
        MATCH (t)-[:ASSIGNED_TO]->(a:Agent)
        WHERE a.id IN $ids
        WITH a.id AS agentId, t.status AS status, count(t) AS count
        RETURN {agentId: agentId, status: status, count: count}
      } AS counts`,
    params: {
      tenantId,
      ids: [...busy.keys()],
      statuses: COUNTED_STATUSES,
      few: neo4j.int(most + 1),
      most,
    },
  });
  if (!row?.within) return walkedCounts(tx, tenantId, [...busy.keys()]);
  return [...busy].flatMap(([agentId, tasks]) => {
    const mine = row.counts.filter((c) => c.agentId === agentId);
    const completed = tasks - mine.reduce((sum, c) => sum + c.count, 0);
    const done = { agentId, status: TaskStatus.COMPLETED as string, count: completed };
    return completed > 0 ? [...mine, done] : mine;
  });
}

/** Each agent's counts from all of its tasks. */
function walkedCounts(tx: Tx, tenantId: string, ids: readonly string[]): Promise<StatusCounts> {
  return tx.run({
    cypher: `
      UNWIND $ids AS agentId
      MATCH (a:Agent {tenantId: $tenantId, id: agentId})<-[:ASSIGNED_TO]-(t:Task)
      USING INDEX SEEK a:Agent(id)
      RETURN agentId, t.status AS status, count(t) AS count`,
    params: { tenantId, ids },
  });
}
