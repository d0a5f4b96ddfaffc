import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

const UNKNOWN = '00000000-0000-4000-8000-00000000abcd';

interface Case {
  name: string;
  query: string;
  variables?: (ids: Ids) => Record<string, unknown>;
  code: string;
  message: RegExp;
}

interface Ids {
  agent: string;
  task: string;
  done: string;
  /** A step AWAITING_APPROVAL: approveTask and rejectTask would decide it. */
  waiting: string;
}

/** Each user mistake, the code it must get, and what the message must say. */
const CASES: Case[] = [
  {
    name: 'an unknown agent id',
    query: `query($id: ID!) { agent(id: $id) { id } }`,
    variables: () => ({ id: UNKNOWN }),
    code: 'NOT_FOUND',
    message: /Agent ".*" does not exist/,
  },
  {
    name: 'an unknown task id',
    query: `mutation($id: ID!) { cancelTask(id: $id) { id } }`,
    variables: () => ({ id: UNKNOWN }),
    code: 'NOT_FOUND',
    message: /Task ".*" does not exist/,
  },
  {
    name: 'an id that is not an id at all',
    query: `query { task(id: "'; DROP DATABASE neo4j; --") { id } }`,
    code: 'NOT_FOUND',
    message: /does not exist/,
  },
  {
    name: 'an empty agent name',
    query: `mutation { createAgent(input: { name: "   ", role: MASTER_OPERATOR }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /name must be 1 to 100 characters, but got 0/,
  },
  {
    name: 'an over-long agent name',
    query: `mutation($name: String!) { createAgent(input: { name: $name, role: MASTER_OPERATOR }) { id } }`,
    variables: () => ({ name: 'n'.repeat(101) }),
    code: 'BAD_USER_INPUT',
    message: /name must be 1 to 100 characters, but got 101/,
  },
  {
    name: 'an empty task title',
    query: `mutation { createTask(input: { title: "" }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /title must be 1 to 200 characters, but got 0/,
  },
  {
    name: 'an over-long task title',
    query: `mutation($t: String!) { createTask(input: { title: $t }) { id } }`,
    variables: () => ({ t: 't'.repeat(201) }),
    code: 'BAD_USER_INPUT',
    message: /title must be 1 to 200 characters, but got 201/,
  },
  {
    name: 'an invalid enum value in a variable',
    query: `mutation($s: AgentStatus!, $id: ID!) { setAgentStatus(id: $id, status: $s) { id } }`,
    variables: (ids) => ({ id: ids.agent, s: 'SLEEPING' }),
    code: 'BAD_USER_INPUT',
    message: /SLEEPING/,
  },
  {
    name: 'an invalid enum literal',
    query: `mutation { createAgent(input: { name: "x", role: JANITOR }) { id } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /JANITOR/,
  },
  {
    name: 'an invalid agent transition',
    query: `mutation($id: ID!) { setAgentStatus(id: $id, status: BUSY) { id } }`,
    variables: (ids) => ({ id: ids.agent }),
    code: 'BAD_USER_INPUT',
    message: /from OFFLINE to BUSY/,
  },
  {
    name: 'an invalid task transition',
    query: `mutation($id: ID!) { setTaskStatus(id: $id, status: IN_PROGRESS) { id } }`,
    variables: (ids) => ({ id: ids.done }),
    code: 'BAD_USER_INPUT',
    message: /from COMPLETED to IN_PROGRESS/,
  },
  {
    name: 'a dependency cycle',
    query: `mutation { createTasks(inputs: [{ key: "a", title: "A", dependsOnKeys: ["b"] }, { key: "b", title: "B", dependsOnKeys: ["a"] }]) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /cycle/,
  },
  {
    name: 'a cycle of parents in one batch',
    query: `mutation { createTasks(inputs: [{ key: "a", title: "A", parentKey: "b" }, { key: "b", title: "B", parentKey: "a" }]) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /ancestors: "A", "B"; one of them needs no parentKey/,
  },
  {
    name: 'a parent named both by id and by key',
    query: `mutation($id: ID!) { createTasks(inputs: [{ key: "p", title: "P" }, { title: "C", parentKey: "p", parentId: $id }]) { id } }`,
    variables: (ids) => ({ id: ids.task }),
    code: 'BAD_USER_INPUT',
    message: /^inputs\[1\]\.parentId and parentKey both name a parent: give one of them$/,
  },
  {
    name: 'over 100 dependencies by key',
    query: `mutation($keys: [String!]!) { createTasks(inputs: [{ key: "a", title: "A" }, { title: "C", dependsOnKeys: $keys }]) { id } }`,
    variables: () => ({ keys: Array.from({ length: 101 }, () => 'a') }),
    code: 'BAD_USER_INPUT',
    message: /^inputs\[1\]\.dependsOnKeys may hold at most 100 items, but got 101$/,
  },
  {
    // A review of 2026-12-06: each list had its own limit, so a task could have 200.
    name: 'over 100 dependencies by id and key together',
    query: `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id } }`,
    variables: () => {
      const keys = Array.from({ length: 41 }, (_, i) => `k${i}`);
      const ids = Array.from(
        { length: 60 },
        (_, i) => `00000000-0000-4000-8000-${`${i}`.padStart(12, '0')}`,
      );
      return {
        inputs: [
          ...keys.map((key) => ({ key, title: key })),
          { title: 'C', dependsOn: ids, dependsOnKeys: keys },
        ],
      };
    },
    code: 'BAD_USER_INPUT',
    message:
      /^inputs\[41\]\.dependsOn and dependsOnKeys may name at most 100 tasks together, but name 101$/,
  },
  {
    name: 'a task depending on itself',
    query: `mutation($id: ID!) { addTaskDependency(id: $id, dependsOnId: $id) { id } }`,
    variables: (ids) => ({ id: ids.task }),
    code: 'BAD_USER_INPUT',
    message: /cannot depend on itself/,
  },
  {
    name: 'a page size over the maximum',
    query: `query { tasks(first: 500) { totalCount } }`,
    code: 'BAD_USER_INPUT',
    message: /first must be between 1 and 100, but got 500/,
  },
  {
    name: 'a page size of zero',
    query: `query { agents(first: 0) { totalCount } }`,
    code: 'BAD_USER_INPUT',
    message: /first must be between 1 and 100, but got 0/,
  },
  {
    name: 'a cursor that this API did not make',
    query: `query { agents(after: "bm90IGEgY3Vyc29y") { totalCount } }`,
    code: 'BAD_USER_INPUT',
    message: /after is not a cursor of this list/,
  },
  {
    name: 'a proficiency outside 0 to 1',
    query: `mutation { createAgent(input: { name: "Pro", role: MASTER_OPERATOR, capabilities: [{ name: "x", proficiency: 7 }] }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /proficiency must be between 0 and 1, but got 7/,
  },
  {
    name: 'a message with no recipients',
    query: `mutation { sendMessage(input: { content: "hello?" }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /recipient|broadcast/i,
  },
  {
    name: 'a message to an unknown agent',
    query: `mutation($to: ID!) { sendMessage(input: { content: "hi", toAgentIds: [$to] }) { id } }`,
    variables: () => ({ to: UNKNOWN }),
    code: 'NOT_FOUND',
    message: /does not exist/,
  },
  {
    name: 'knowledge with a confidence over 1',
    query: `mutation { recordKnowledge(input: { content: "x", confidence: 1.5 }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /confidence must be between 0 and 1, but got 1.5/,
  },
  {
    name: 'assigning work to an inactive agent',
    query: `mutation($id: ID!, $agent: ID!) { assignTask(id: $id, agentId: $agent) { id } }`,
    variables: (ids) => ({ id: ids.task, agent: ids.agent }),
    code: 'CONFLICT',
    message: /inactive/,
  },
  {
    name: 'deleting an agent that holds unfinished tasks',
    query: `mutation($id: ID!) { deleteAgent(id: $id) { id } }`,
    variables: () => ({ id: busyAgent }),
    code: 'CONFLICT',
    message: /unfinished task/,
  },
  {
    name: 'a duplicate agent name',
    query: `mutation { createAgent(input: { name: "Taken", role: MASTER_OPERATOR }) { id } }`,
    code: 'CONFLICT',
    message: /"Taken" already exists/,
  },
  {
    name: 'importing a malformed file',
    query: `mutation { importOrganisation(document: { format: "zip", nodes: 3 }) { nodesCreated } }`,
    code: 'BAD_USER_INPUT',
    message: /format/,
  },
  {
    name: 'rejecting a step with a blank reason',
    query: `mutation($id: ID!) { rejectTask(id: $id, reason: "  ") { id } }`,
    variables: (ids) => ({ id: ids.waiting }),
    code: 'BAD_USER_INPUT',
    message: /^reason must be 1 to 10000 characters, but got 0: say why, or leave reason out$/,
  },
  {
    name: 'rejecting a step with an over-long reason',
    query: `mutation($id: ID!, $r: String!) { rejectTask(id: $id, reason: $r) { id } }`,
    variables: (ids) => ({ id: ids.waiting, r: 'r'.repeat(10_001) }),
    code: 'BAD_USER_INPUT',
    message: /^reason must be 1 to 10000 characters, but got 10001/,
  },
  {
    name: 'rejecting a plan with a blank reason',
    query: `mutation($id: ID!) { rejectPlan(taskId: $id, reason: "") { id } }`,
    variables: (ids) => ({ id: ids.waiting }),
    code: 'BAD_USER_INPUT',
    message: /^reason must be 1 to 10000 characters, but got 0: say why$/,
  },
  {
    name: 'rejecting a tool call with a blank reason',
    query: `mutation { resolveToolCall(runId: "${UNKNOWN}", callId: "call_1", decision: REJECT, reason: " ") { id } }`,
    code: 'BAD_USER_INPUT',
    message: /^reason must be 1 to 10000 characters, but got 0: say why, or leave reason out$/,
  },
  {
    name: 'approving a tool call with a blank reason',
    query: `mutation { resolveToolCall(runId: "${UNKNOWN}", callId: "call_1", decision: APPROVE, reason: "") { id } }`,
    code: 'BAD_USER_INPUT',
    message: /^reason must be 1 to 10000 characters, but got 0: say why, or leave reason out$/,
  },
  {
    // README walk (2026-12-06): it said "at most 4000 characters" without what it got.
    name: 'forking with an over-long message',
    query: `mutation($m: String!) { forkRun(runId: "${UNKNOWN}", checkpointId: "${UNKNOWN}", message: $m) { id } }`,
    variables: () => ({ m: 'm'.repeat(4_001) }),
    code: 'BAD_USER_INPUT',
    message: /^message must be at most 4000 characters, but got 4001$/,
  },
  {
    name: 'a field that does not exist',
    query: `query { agents { nodes { salary } } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /salary/,
  },
  {
    name: 'a syntax error',
    query: `query { agents { `,
    code: 'GRAPHQL_PARSE_FAILED',
    message: /Syntax Error/,
  },
];

let busyAgent = '';

describe('bad input', () => {
  let server: TestServer;
  let ids: Ids;
  beforeAll(async () => {
    server = await startTestServer();
    const seed = await server.gql(`mutation {
      paused: createAgent(input: { name: "Paused", role: MASTER_OPERATOR }) { id }
      busy: createAgent(input: { name: "Busy", role: MASTER_OPERATOR }) { id }
      taken: createAgent(input: { name: "Taken", role: MASTER_OPERATOR }) { id }
      open: createTask(input: { title: "Open" }) { id }
      done: createTask(input: { title: "Done" }) { id }
      waiting: createTask(input: { title: "Waiting" }) { id }
    }`);
    const d = seed.data as Record<string, { id: string }>;
    ids = { agent: d.paused!.id, task: d.open!.id, done: d.done!.id, waiting: d.waiting!.id };
    busyAgent = d.busy!.id;
    const setup = await server.gql(`mutation {
      p: setAgentStatus(id: "${ids.agent}", status: PAUSED) { id }
      d: deactivateAgent(id: "${ids.agent}") { id }
      s: setTaskStatus(id: "${ids.done}", status: IN_PROGRESS) { id }
      c: setTaskStatus(id: "${ids.done}", status: COMPLETED) { id }
      a: createTask(input: { title: "Held", assigneeId: "${busyAgent}" }) { id }
      w: setTaskStatus(id: "${ids.waiting}", status: AWAITING_APPROVAL) { id }
    }`);
    expect(setup.errors).toBeUndefined();
  });
  afterAll(() => server.stop());

  it('covers at least 20 mistakes', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  // Walked by hand: dependsOnKeys ["a", "a"] wrote two DEPENDS_ON edges, listed twice.
  it('writes a dependency named twice, by id and by key, once', async () => {
    const res = await server.gql(
      `mutation($id: ID!) { createTasks(inputs: [{ key: "a", title: "A" },
        { title: "C", dependsOn: [$id, $id], dependsOnKeys: ["a", "a"] }]) {
          dependencies { id } } }`,
      { id: ids.task } as never,
    );
    expect(res.errors).toBeUndefined();
    const [a, c] = (res.data as { createTasks: { dependencies: { id: string }[] }[] }).createTasks;
    expect(a!.dependencies).toEqual([]);
    expect(c!.dependencies).toHaveLength(2);
    expect(c!.dependencies.map((d) => d.id)).toContain(ids.task);
  });

  it.each(CASES)('answers $name with $code and a message that says what to fix', async (c) => {
    const before = await counts(server);
    const res = await server.gql(c.query, c.variables?.(ids) as never);
    expect(res.status).toBeLessThan(500);
    const error = res.errors?.[0];
    expect(error?.extensions?.code).toBe(c.code);
    expect(error?.message).toMatch(c.message);
    expect(JSON.stringify(res)).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    expect(await counts(server)).toEqual(before); // nothing half-written
  });
});

async function counts(server: TestServer) {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ nodes: number; rels: number }>({
      // Audit events are written for refused attempts on purpose; nothing else may change.
      cypher: `MATCH (n {tenantId: $tenantId}) WHERE NOT n:AuditEvent
               OPTIONAL MATCH (n)-[r]->()
               RETURN count(DISTINCT n) AS nodes, count(r) AS rels`,
      params: { tenantId: server.tenantId },
    }),
  );
  return row;
}
