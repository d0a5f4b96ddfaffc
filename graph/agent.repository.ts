import { randomUUID } from 'node:crypto';
import type {
  Agent,
  AgentCapability,
  AgentRole,
  AgentStatus,
  RemoteAgent,
} from '../src/domain/agent.js';
import type { Page, PageRequest } from '../src/domain/page.js';
import { FINISHED_STATUSES, TaskStatus, type Task } from '../src/domain/task.js';
import type { CypherQuery, Tx } from './cypher.js';
import {
  readAgent,
  taskPropertiesOnly,
  taskReader,
  toAgent,
  toAgentFields,
  type AgentProperty,
} from './mappers.js';
import { readPage, type ListSpec, type NodeLike, type Sort } from './page.js';
import type { Linked } from './page-direct.js';
import { projection } from './projections.js';
import { assignmentsOf, FINISHED } from './engine-scope.js';
import {
  capabilitiesOf,
  readCapability,
  type CapabilityCounter,
  type CapabilityRow,
} from './capability.repository.js';
import { lockAndBump } from './locks.js';
import {
  assignedTasksOf,
  assignedTasksParams,
  busyAgentsTasks,
  isBusyAgent,
} from './task-relations.repository.js';

export interface NewAgent {
  name: string;
  description: string | null;
  role: AgentRole;
  model: string | null;
  systemPrompt: string | null;
  temperature?: number | null;
  tools?: string[];
  lessonBudget?: number | null;
  /** A Chief of Staff's plans wait for approvePlan by default (issue 13); default false. */
  reviewPlans?: boolean;
  capabilities: { name: string; proficiency: number }[];
  /** An outside A2A agent it stands for (issue 16). */
  remote?: RemoteAgent | null;
}

export interface AgentFilter {
  role?: AgentRole;
  status?: AgentStatus[];
  active?: boolean;
  capability?: string;
  text?: string;
}

/** Fields an update may set; a null removes the property. */
export type AgentPatch = Partial<
  Pick<
    Agent,
    'name' | 'description' | 'role' | 'model' | 'systemPrompt' | 'status' | 'active' | 'reviewPlans'
  >
>;

export async function createAgents(tx: Tx, tenantId: string, agents: NewAgent[]): Promise<Agent[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $agents AS a
      CREATE (n:Agent {id: a.id, tenantId: $tenantId, name: a.name, description: a.description,
                       role: a.role, status: 'IDLE', active: true, model: a.model,
                       systemPrompt: a.systemPrompt, version: 1, temperature: a.temperature,
                       tools: coalesce(a.tools, []), lessonBudget: toInteger(a.lessonBudget),
                       reviewPlans: coalesce(a.reviewPlans, false),
                       remoteUrl: a.remote.url, remoteHeadersJson: a.remote.headersJson,
                       remoteHeadersSealed: a.remote.headersSealed,
                       createdAt: datetime(), updatedAt: datetime()})
      WITH n, a
      CALL (n, a) {
        UNWIND a.capabilities AS cap
        MERGE (c:Capability {tenantId: $tenantId, name: cap.name})
          ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()
        CREATE (n)-[:HAS_CAPABILITY {proficiency: cap.proficiency, runs: 0, successes: 0,
                                      avgLatencyMs: 0.0, avgCostUsd: 0.0}]->(c)
      }
      RETURN n`,
    params: {
      tenantId,
      agents: agents.map(({ remote, ...a }) => ({
        ...a,
        id: randomUUID(),
        remote: remote
          ? {
              url: remote.url,
              headersJson: JSON.stringify(remote.headers),
              headersSealed: remote.headersSealed,
            }
          : null,
      })),
    },
  });
  return rows.map((r) => toAgent(r.n));
}

/** Names among `names` already used by an agent of the tenant (other than `exceptId`). */
export async function takenAgentNames(
  tx: Tx,
  tenantId: string,
  names: string[],
  exceptId?: string,
): Promise<string[]> {
  const rows = await tx.run<{ name: string }>({
    cypher: `
      UNWIND $names AS name
      MATCH (n:Agent {tenantId: $tenantId, name: name})
      WHERE n.id <> $exceptId
      RETURN name`,
    params: { tenantId, names, exceptId: exceptId ?? '' },
  });
  return rows.map((r) => r.name);
}

/**
 * Takes the agent's write lock (by bumping a counter; `version` is its live version's number
 * since issue 12) and returns it as it was, so a check-then-write in the same transaction
 * cannot race another writer. Null when unknown.
 */
export async function lockAgent(tx: Tx, tenantId: string, id: string): Promise<Agent | null> {
  const [row] = await tx.run<{ n: NodeLike }>({
    cypher: `
      MATCH (n:Agent {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Agent(id)
      ${lockAndBump('n', 'Agent', 'writeLock')}
      RETURN n`,
    params: { tenantId, id },
  });
  return row ? toAgent(row.n) : null;
}

/** The agents of these ids, each under its write lock, taken in id order; unknown ids skipped. */
export async function lockAgents(tx: Tx, tenantId: string, ids: string[]): Promise<Agent[]> {
  if (ids.length === 0) return [];
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (n:Agent {tenantId: $tenantId, id: id}) USING INDEX SEEK n:Agent(id)
      WITH n ORDER BY n.id
      ${lockAndBump('n', 'Agent', 'writeLock')}
      RETURN n`,
    params: { tenantId, ids },
  });
  return rows.map((r) => toAgent(r.n));
}

export async function patchAgent(
  tx: Tx,
  tenantId: string,
  id: string,
  patch: AgentPatch,
): Promise<Agent> {
  const [row] = await tx.run<{ n: NodeLike }>({
    cypher: `
      MATCH (n:Agent {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Agent(id)
      SET n += $patch, n.updatedAt = datetime()
      RETURN n`,
    params: { tenantId, id, patch },
  });
  return toAgent(row!.n);
}

/** Unfinished tasks assigned to the agent. */
export async function countOpenAssignments(tx: Tx, tenantId: string, id: string): Promise<number> {
  const [row] = await tx.run<{ open: number }>({
    cypher: `
      MATCH (a:Agent {tenantId: $tenantId, id: $id}) USING INDEX SEEK a:Agent(id)
      ${assignmentsOf('a', 'r', 't')}
      WITH t WHERE NOT t.status IN ${FINISHED}
      RETURN count(t) AS open`,
    params: { tenantId, id },
  });
  return row?.open ?? 0;
}

/**
 * Moves the agent's unfinished tasks to another agent; returns the ids of the tasks moved.
 * Unfinished as read under each task's lock (id order): one that ended meanwhile stays put.
 */
export async function moveOpenAssignments(
  tx: Tx,
  tenantId: string,
  fromId: string,
  toId: string,
): Promise<string[]> {
  const rows = await tx.run<{ id: string }>({
    cypher: `
      MATCH (from:Agent {tenantId: $tenantId, id: $fromId}) USING INDEX SEEK from:Agent(id)
      ${assignmentsOf('from', 'old', 't')}
      WITH DISTINCT from, t WHERE NOT t.status IN ${FINISHED}
      MATCH (to:Agent {tenantId: $tenantId, id: $toId}) USING INDEX SEEK to:Agent(id)
      WITH from, to, t ORDER BY t.id
      ${lockAndBump('t', 'Task')}
      WITH from, to, t WHERE NOT t.status IN ${FINISHED}
      MATCH (t)-[old:ASSIGNED_TO]->(from)
      DELETE old
      CREATE (t)-[:ASSIGNED_TO {score: 0.0, reason: 'reassigned when agent ' + from.name + ' was deleted', at: datetime()}]->(to)
      SET t.updatedAt = datetime()
      RETURN t.id AS id`,
    params: { tenantId, fromId, toId },
  });
  return rows.map((r) => r.id);
}

export async function deleteAgent(tx: Tx, tenantId: string, id: string): Promise<void> {
  await tx.run({
    cypher: `MATCH (n:Agent {tenantId: $tenantId, id: $id})
    USING INDEX SEEK n:Agent(id) DETACH DELETE n`,
    params: { tenantId, id },
  });
}

/** For the DataLoader: agents by id, any order; unknown ids are simply absent. */
export async function agentsByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Agent[]> {
  const rows = await tx.run<{ n: unknown }>({
    cypher: `UNWIND $ids AS id MATCH (n:Agent {tenantId: $tenantId, id: id}) USING INDEX SEEK n:Agent(id) RETURN ${projection('Agent').of('n')} AS n`,
    params: { tenantId, ids },
  });
  return rows.map((r) => readAgent(r.n));
}

/**
 * The active Chief of Staff to hand a task to: the one with `id` when given, otherwise the one
 * with the fewest unfinished tasks, ties drawn at random (so a burst of concurrent submits, which
 * all see the same counts, still spreads out). Reads only the tenant's Chiefs of Staff, through
 * the (tenantId, role) index, and their load from the tenant's unfinished tasks, through the
 * (tenantId, status) index: walking each chief's assigned tasks grew with every task ever
 * submitted (test/agent-load.int.test.ts).
 */
export function activeChiefOfStaffQuery(tenantId: string, id: string | null): CypherQuery {
  return {
    cypher: `
      CALL () {
        UNWIND $unfinished AS status
        MATCH (t:Task) USING INDEX SEEK t:Task(tenantId, status)
        WHERE t.tenantId = $tenantId AND t.status = status
        MATCH (t)-[:ASSIGNED_TO]->(c {role: 'CHIEF_OF_STAFF'})
        RETURN collect(c.id) AS busy
      }
      MATCH (n:Agent {tenantId: $tenantId, role: 'CHIEF_OF_STAFF'})
      USING INDEX SEEK n:Agent(tenantId, role)
      WHERE n.active = true AND ($id IS NULL OR n.id = $id)
      WITH n, size([x IN busy WHERE x = n.id]) AS load
      RETURN ${projection('Agent').of('n')} AS n, load ORDER BY load, rand() LIMIT 1`,
    params: {
      tenantId,
      id,
      unfinished: Object.values(TaskStatus).filter((s) => !FINISHED_STATUSES.includes(s)),
    },
  };
}

export async function activeChiefOfStaff(
  tx: Tx,
  tenantId: string,
  id: string | null,
): Promise<{ chief: Agent; unfinished: number } | null> {
  const [row] = await tx.run<{ n: unknown; load: number }>(activeChiefOfStaffQuery(tenantId, id));
  return row ? { chief: readAgent(row.n), unfinished: row.load } : null;
}

/**
 * What a page of agents reads of each in its own statement, for the fields its query selects
 * (resolvers/agent-lookahead.ts): without it, a page with its agents' capabilities and tasks
 * took three statements where @neo4j/graphql takes one (issue 15).
 */
export interface AgentListAhead {
  /** The only properties to read of each agent (toAgentFields); absent: all of them. */
  only?: readonly AgentProperty[];
  /** Their capabilities, with these counters (capabilitiesByAgentIds). */
  capabilities?: readonly CapabilityCounter[];
  /** As tasksByAssigneeIds reads them. */
  tasks?: { statuses: TaskStatus[] | null; limit: number; selected: readonly string[] | null };
}

/** Of one agent of a page, what its AgentListAhead read with it. */
export interface AgentRelated {
  capabilities?: AgentCapability[];
  tasks?: Task[];
}

const BY_CAPABILITY: Linked = {
  from: { label: 'Capability', id: 'capability', by: 'name' },
  edges: ['<-[:HAS_CAPABILITY]-'],
  test: 'EXISTS { (n)-[:HAS_CAPABILITY]->(c) WHERE c.name = $capability }',
};

export async function listAgents(
  tx: Tx,
  tenantId: string,
  filter: AgentFilter,
  sort: Sort,
  page: PageRequest,
  ahead: AgentListAhead = {},
): Promise<Page<Agent> & { related: Map<string, AgentRelated> }> {
  const conditions: string[] = [];
  if (filter.role) conditions.push('n.role = $role');
  if (filter.status?.length) conditions.push('n.status IN $status');
  if (filter.active !== undefined) conditions.push('n.active = $active');
  if (filter.text) {
    conditions.push(
      '(toLower(n.name) CONTAINS toLower($text) OR toLower(coalesce(n.description, "")) CONTAINS toLower($text))',
    );
  }
  const columns: Record<string, string> = {};
  let params: ListSpec['params'] = { tenantId, ...filter };
  if (ahead.capabilities) columns.capabilities = capabilitiesOf('n', ahead.capabilities);
  const fields = ahead.tasks && taskPropertiesOnly(ahead.tasks.selected);
  if (ahead.tasks) {
    columns.tasks = assignedTasksOf('n', fields ?? null);
    columns.busy = isBusyAgent('n');
    params = { ...params, ...assignedTasksParams(ahead.tasks.statuses, ahead.tasks.limit) };
  }
  const readTask = taskReader(fields);
  const related = new Map<string, AgentRelated>();
  const busy: string[] = [];
  const read = await readPage(
    tx,
    {
      label: 'Agent',
      // A role's agents from its (tenantId, role) index (else a few statuses' from theirs), a
      // capability's from the capability, when they are few (page-direct.ts).
      oneOf: filter.role
        ? { property: 'role', param: 'roles' }
        : filter.status?.length
          ? { property: 'status', param: 'status' }
          : undefined,
      linked: filter.capability ? [BY_CAPABILITY] : undefined,
      conditions,
      params: { ...params, roles: [filter.role] },
      sort,
      page,
      columns,
      only: ahead.only,
    },
    (node, row) => {
      const agent = ahead.only ? toAgentFields(node, ahead.only) : toAgent(node);
      const of: AgentRelated = {};
      const counters = ahead.capabilities;
      if (counters) {
        const rows = row.capabilities as CapabilityRow[];
        of.capabilities = rows.map((c) => readCapability(agent.id, c, counters));
      }
      if (ahead.tasks) of.tasks = (row.tasks as unknown[]).map(readTask);
      if (row.busy) busy.push(agent.id);
      related.set(agent.id, of);
      return agent;
    },
  );
  // A busy agent's tasks were not walked (assignedTasksOf): they are read apart.
  if (ahead.tasks && busy.length) {
    const { statuses, limit } = ahead.tasks;
    const rows = await busyAgentsTasks(tx, tenantId, busy, statuses, limit, fields ?? null);
    for (const id of busy) related.get(id)!.tasks = [];
    for (const { agentId, task } of rows) related.get(agentId)!.tasks!.push(task);
  }
  return { ...read, related };
}
