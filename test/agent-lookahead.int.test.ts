import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';

/**
 * Issue 15: a page of agents reads the capabilities and tasks its items select in the page's
 * own statement (listAgents' columns), where it took one more statement for each. The answers
 * must be those of the batched loaders, which `agent(id)` still uses.
 */
type Answer = Record<string, unknown>;

describe('agents with their capabilities and tasks', () => {
  let server: TestServer;
  const agentIds: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    const made = await server.gql<{ createAgents: { id: string }[] }, never>(
      `mutation { createAgents(inputs: [
        { name: "Ahead A", role: MASTER_OPERATOR,
          capabilities: [{ name: "writing", proficiency: 0.9 }, { name: "analysis" }] },
        { name: "Ahead B", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Ahead C", role: MASTER_OPERATOR }
      ]) { id } }`,
    );
    expect(made.errors).toBeUndefined();
    agentIds.push(...made.data!.createAgents.map((a) => a.id));
    // A's three tasks in two batches (two creation times), B's one; C has none.
    for (const titles of [
      ['A one', 'A two'],
      ['A three', 'B one'],
    ]) {
      const inputs = titles
        .map((t) => `{ title: "${t}", assigneeId: "${agentIds[t.startsWith('A') ? 0 : 1]}" }`)
        .join(' ');
      const tasks = await server.gql(`mutation { createTasks(inputs: [${inputs}]) { id } }`);
      expect(tasks.errors).toBeUndefined();
    }
  });
  afterAll(() => server?.stop());

  const page = (items: string) =>
    server.gql<{ agents: Record<string, Answer[]> }, never>(
      `query { agents(first: 10, orderBy: NAME_ASC, filter: { text: "Ahead" }) { ${items} } }`,
    );
  /** The same fields of each agent through agent(id), whose fields use the loaders. */
  const viaLoaders = async (fields: string) => {
    const answers: Answer[] = [];
    for (const id of agentIds) {
      const one = await server.gql<{ agent: Answer }, never>(
        `query { agent(id: "${id}") { ${fields} } }`,
      );
      expect(one.errors).toBeUndefined();
      answers.push(one.data!.agent);
    }
    return answers;
  };

  const FIELDS = `id name capabilities { name proficiency } tasks(first: 2) { id title status }`;

  it('answers as the loaders do, in the page’s one statement', async () => {
    const read = await page(`nodes { ${FIELDS} }`);
    expect(read.errors).toBeUndefined();
    expect(read.data!.agents.nodes).toEqual(await viaLoaders(FIELDS));
    // What the fixture built, so that equal answers are not two empty ones.
    const [a, b, c] = read.data!.agents.nodes as Answer[];
    expect(a!.capabilities).toEqual([
      { name: 'analysis', proficiency: 0.5 },
      { name: 'writing', proficiency: 0.9 },
    ]);
    expect((a!.tasks as Answer[]).map((t) => t.title)).toEqual(['A three', expect.any(String)]);
    expect(b!.tasks).toMatchObject([{ title: 'B one' }]);
    expect(c).toMatchObject({ capabilities: [], tasks: [] });

    expect(await statementsFor(server, () => page(`nodes { ${FIELDS} }`))).toBe(1);
    // Of the agents and their tasks, only the properties selected are read.
    const cypher: string[] = [];
    server.graph.onStatement = (q) => void cypher.push(q.cypher);
    try {
      await page(`nodes { ${FIELDS} }`);
    } finally {
      server.graph.onStatement = undefined;
    }
    expect(cypher).toHaveLength(1);
    expect(cypher[0]).toMatch(/, n\.id, n\.name\] AS node/);
    expect(cypher[0]).toMatch(/, t\.id, t\.title, t\.status\]/);
    expect(cypher[0]).toContain('RETURN [c.name, r.proficiency]');
    const edges = () => page(`edges { cursor node { ${FIELDS} } }`);
    const throughEdges = await edges();
    expect(throughEdges.data!.agents.edges!.map((e) => e.node)).toEqual(read.data!.agents.nodes);
    expect(await statementsFor(server, edges)).toBe(1);
  });

  it('reads the counters of capabilities selected anywhere, and answers each field its own', async () => {
    const [a] = agentIds;
    const fields = `x: capabilities { name } y: capabilities { runs }`;
    const query = `query { agents(first: 10, orderBy: NAME_ASC, filter: { text: "Ahead" }) {
        nodes { ${fields} } }
      agent(id: "${a}") { capabilities { name proficiency avgCostUsd } } }`;
    const read = await server.gql<{ agents: { nodes: Answer[] }; agent: Answer }, never>(query);
    expect(read.errors).toBeUndefined();
    expect(read.data!.agents.nodes).toEqual(await viaLoaders(fields));
    // The page read the runs for y; agent(id) was not served x's or y's (with defaults).
    expect(read.data!.agent.capabilities).toEqual([
      { name: 'analysis', proficiency: 0.5, avgCostUsd: 0 },
      { name: 'writing', proficiency: 0.9, avgCostUsd: 0 },
    ]);
    // The page; agent(id), then its capabilities.
    expect(await statementsFor(server, () => server.gql(query))).toBe(3);
  });

  it('reads tasks in their loaders when the items ask for them differently', async () => {
    const fields = `id a: tasks(first: 1) { title } b: tasks(status: [COMPLETED]) { id }
      c: tasks { id assignee { name } }`;
    const read = await page(`nodes { ${fields} }`);
    expect(read.errors).toBeUndefined();
    expect(read.data!.agents.nodes).toEqual(await viaLoaders(fields));
    expect(read.data!.agents.nodes![0]).toMatchObject({
      a: [{ title: 'A three' }],
      b: [],
      c: [{ assignee: { name: 'Ahead A' } }, {}, {}],
    });
    // The page, then one statement for each distinct set of arguments and fields (and the
    // assignees of the third).
    expect(await statementsFor(server, () => page(`nodes { ${fields} }`))).toBe(5);
  });

  it('reads whole tasks for a selection that is not only their properties', async () => {
    const fields = `id tasks(first: 5) { title assignee { name } }`;
    const read = await page(`nodes { ${fields} }`);
    expect(read.errors).toBeUndefined();
    expect(read.data!.agents.nodes).toEqual(await viaLoaders(fields));
    expect(await statementsFor(server, () => page(`nodes { ${fields} }`))).toBe(2);
  });

  it('leaves a refused `first` to the field, which answers BAD_USER_INPUT', async () => {
    const read = await page(`nodes { id tasks(first: 0) { id } }`);
    expect(read.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(read.errors?.[0]?.message).toBe('first must be between 1 and 100, but got 0');
  });
});
