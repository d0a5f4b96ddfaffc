/**
 * The reads of `npm run bench:api`, each three ways over the same rows: raw Cypher through
 * neo4j-driver (the floor), this API's GraphQL, and @neo4j/graphql's GraphQL over type
 * definitions that map the project's labels and relationships. `normalise` brings the three
 * answers to one shape, so the benchmark can check that they are the same data before it times
 * them. Orders are the API's: agents by name; an agent's tasks newest first, then by id; a
 * task's subtasks oldest first; the task list oldest first, then by id.
 */
import type { Session } from 'neo4j-driver';

export interface ReadVars {
  tenantId: string;
  /** A task to read (read 2), picked at random from the seed for each request. */
  taskId: string;
}

export interface Read {
  name: string;
  raw(session: Session, v: ReadVars): Promise<unknown>;
  api: { query: string; variables(v: ReadVars): Record<string, unknown> };
  neo4jGraphql: { query: string; variables(v: ReadVars): Record<string, unknown> };
  /** The answer of any of the three ways, as plain data in one shape. */
  normalise(way: Way, answer: unknown): unknown;
}

export type Way = 'raw' | 'api' | 'neo4jGraphql';

/** @neo4j/graphql 7 type definitions for the labels the reads touch (read-only use). */
export const NEO4J_GRAPHQL_TYPE_DEFS = /* GraphQL */ `
  type Agent @node {
    id: ID!
    tenantId: String!
    name: String!
    createdAt: DateTime!
    capabilities: [Capability!]! @relationship(type: "HAS_CAPABILITY", direction: OUT)
    tasks: [Task!]! @relationship(type: "ASSIGNED_TO", direction: IN)
  }
  type Capability @node {
    name: String!
  }
  type Task @node {
    id: ID!
    tenantId: String!
    title: String!
    status: String!
    createdAt: DateTime!
    assignee: [Agent!]! @relationship(type: "ASSIGNED_TO", direction: OUT)
    subtasks: [Task!]! @relationship(type: "SUBTASK_OF", direction: IN)
    dependencies: [Task!]! @relationship(type: "DEPENDS_ON", direction: OUT)
  }
`;

type Row = Record<string, unknown>;
const rows = async (session: Session, cypher: string, params: Row) =>
  (await session.executeRead((tx) => tx.run(cypher, params))).records.map((r) => r.toObject());
const byId = (list: Row[]) => [...list].sort((a, b) => String(a.id).localeCompare(String(b.id)));
const brief = (t: Row) => ({ id: t.id, title: t.title });

const agentsWithTasks: Read = {
  name: '50 agents by name, their capabilities and first 10 tasks',
  raw: (session, v) =>
    rows(
      session,
      `MATCH (a:Agent {tenantId: $tenantId})
       WITH a ORDER BY a.name LIMIT 50
       RETURN a.id AS id, a.name AS name,
         COLLECT { MATCH (a)-[:HAS_CAPABILITY]->(c:Capability) RETURN c.name ORDER BY c.name }
           AS capabilities,
         COLLECT { MATCH (a)<-[:ASSIGNED_TO]-(t:Task)
                   WITH t ORDER BY t.createdAt DESC, t.id DESC LIMIT 10
                   RETURN {id: t.id, title: t.title, status: t.status} } AS tasks`,
      { tenantId: v.tenantId },
    ),
  api: {
    query: `{ agents(first: 50, orderBy: NAME_ASC) {
      nodes { id name capabilities { name } tasks(first: 10) { id title status } } } }`,
    variables: () => ({}),
  },
  neo4jGraphql: {
    query: `query($tenantId: String!) {
      agents(where: { tenantId: { eq: $tenantId } }, sort: [{ name: ASC }], limit: 50) {
        id name capabilities { name }
        tasks(limit: 10, sort: [{ createdAt: DESC }, { id: DESC }]) { id title status } } }`,
    variables: (v) => ({ tenantId: v.tenantId }),
  },
  normalise(way, answer) {
    const agents = (
      way === 'raw'
        ? answer
        : way === 'api'
          ? (answer as { agents: { nodes: Row[] } }).agents.nodes
          : (answer as { agents: Row[] }).agents
    ) as Row[];
    return agents.map((a) => ({
      id: a.id,
      name: a.name,
      capabilities: (a.capabilities as (Row | string)[])
        .map((c) => (typeof c === 'string' ? c : String(c.name)))
        .sort(),
      tasks: a.tasks,
    }));
  },
};

const taskWithRelations: Read = {
  name: 'one task with assignee, subtasks and dependencies',
  raw: (session, v) =>
    rows(
      session,
      `MATCH (t:Task {tenantId: $tenantId, id: $taskId})
       RETURN t.id AS id, t.title AS title, t.status AS status,
         COLLECT { MATCH (t)-[:ASSIGNED_TO]->(a:Agent) RETURN {id: a.id, name: a.name} }
           AS assignee,
         COLLECT { MATCH (t)<-[:SUBTASK_OF]-(s:Task) WITH s ORDER BY s.createdAt, s.id
                   RETURN {id: s.id, title: s.title} } AS subtasks,
         COLLECT { MATCH (t)-[:DEPENDS_ON]->(d:Task) RETURN {id: d.id, title: d.title} }
           AS dependencies`,
      { tenantId: v.tenantId, taskId: v.taskId },
    ),
  api: {
    query: `query($id: ID!) { task(id: $id) { id title status assignee { id name }
      subtasks { id title } dependencies { id title } } }`,
    variables: (v) => ({ id: v.taskId }),
  },
  neo4jGraphql: {
    query: `query($tenantId: String!, $id: ID!) {
      tasks(where: { tenantId: { eq: $tenantId }, id: { eq: $id } }) {
        id title status assignee { id name }
        subtasks(sort: [{ createdAt: ASC }, { id: ASC }]) { id title }
        dependencies { id title } } }`,
    variables: (v) => ({ tenantId: v.tenantId, id: v.taskId }),
  },
  normalise(way, answer) {
    const task = (
      way === 'raw'
        ? (answer as Row[])[0]
        : way === 'api'
          ? (answer as { task: Row }).task
          : (answer as { tasks: Row[] }).tasks[0]
    ) as Row;
    const found = task.assignee as Row | Row[] | null;
    const assignee = Array.isArray(found) ? (found[0] ?? null) : found;
    return {
      id: task.id,
      title: task.title,
      status: task.status,
      assignee: assignee && { id: assignee.id, name: assignee.name },
      subtasks: (task.subtasks as Row[]).map(brief),
      dependencies: byId((task.dependencies as Row[]).map(brief)),
    };
  },
};

const taskList: Read = {
  name: 'a page of 20 tasks, oldest first',
  raw: (session, v) =>
    rows(
      session,
      `MATCH (t:Task {tenantId: $tenantId})
       WITH t ORDER BY t.tenantId, t.createdAt, t.id LIMIT 20
       RETURN t.id AS id, t.title AS title, t.status AS status`,
      { tenantId: v.tenantId },
    ),
  api: {
    query: `{ tasks(first: 20) { nodes { id title status } } }`,
    variables: () => ({}),
  },
  neo4jGraphql: {
    query: `query($tenantId: String!) {
      tasks(where: { tenantId: { eq: $tenantId } }, sort: [{ createdAt: ASC }, { id: ASC }],
            limit: 20) { id title status } }`,
    variables: (v) => ({ tenantId: v.tenantId }),
  },
  normalise(way, answer) {
    if (way === 'raw') return answer;
    if (way === 'api') return (answer as { tasks: { nodes: Row[] } }).tasks.nodes;
    return (answer as { tasks: Row[] }).tasks;
  },
};

export const READS: Read[] = [agentsWithTasks, taskWithRelations, taskList];
