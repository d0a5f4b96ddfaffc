import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeLike } from '../graph/page.js';
import { toAgent, toTask } from '../graph/mappers.js';
import { projection, type ProjectedLabel } from '../graph/projections.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15: the hot reads return projections (the mapped properties, times as text) instead of
 * whole nodes, so the driver decodes no DateTime the client never sees. A projection that
 * missed a property a mapper reads would turn it into null without an error: these tests catch
 * that, and any difference in what the mappers make of the two.
 */
const MAPPERS: Record<ProjectedLabel, (node: NodeLike) => unknown> = {
  Agent: toAgent,
  Task: toTask,
};

describe('projections', () => {
  let server: TestServer;
  const ids: Record<ProjectedLabel, string> = { Agent: '', Task: '' };

  beforeAll(async () => {
    server = await startTestServer();
    const made = await server.gql<{ createAgents: { id: string }[]; createTasks: never }, never>(
      `mutation { createAgents(inputs: [{ name: "Projected", role: MASTER_OPERATOR,
         description: "d", model: "m", systemPrompt: "s", capabilities: [{ name: "x" }] }]) { id } }`,
    );
    expect(made.errors).toBeUndefined();
    ids.Agent = made.data!.createAgents[0]!.id;
    const task = await server.gql<{ createTasks: { id: string }[] }, never>(
      `mutation { createTasks(inputs: [{ title: "Projected", description: "d",
         assigneeId: "${ids.Agent}", requiredCapabilities: ["x"] }]) { id } }`,
    );
    expect(task.errors).toBeUndefined();
    ids.Task = task.data!.createTasks[0]!.id;
    // Every optional a mapper reads, set, and times with more precision than a millisecond.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {id: $agent}), (t:Task {id: $task})
          SET a.temperature = 0.3, a.tools = ['search'], a.lessonBudget = 4, a.reviewPlans = true,
              a.createdAt = datetime('2026-01-02T03:04:05.123456789Z'),
              t.result = 'r', t.error = 'e', t.waitingReason = 'w', t.key = 'k',
              t.condition = 'true', t.needsPlan = true, t.expectedOutput = 'o',
              t.decision = 'APPROVED', t.planApproval = true, t.planFeedback = 'f',
              t.decidedBy = 'p', t.decisionComment = 'c', t.family = 'fam',
              t.updatedAt = datetime('2026-01-02T03:04:05Z'),
              t.leaseOwner = 'not read by the mapper'`,
        params: { agent: ids.Agent, task: ids.Task },
      }),
    );
  });
  afterAll(() => server.stop());

  it.each(['Agent', 'Task'] as const)(
    '%s: the mapper reads the same object from its projection as from the node',
    async (label) => {
      const [row] = await server.graph.read((tx) =>
        tx.run<{ node: NodeLike; projected: unknown }>({
          cypher: `MATCH (n:${label} {id: $id}) RETURN n AS node, ${projection(label).of('n')} AS projected`,
          params: { id: ids[label] },
        }),
      );
      const { node } = row!;
      const projected = projection(label).node(row!.projected);
      expect(projected.elementId).toBe((node as NodeLike & { elementId: string }).elementId);
      const read = new Set<string>();
      const watched = new Proxy(node.properties, {
        get(target, key) {
          if (typeof key === 'string') read.add(key);
          return target[key as string];
        },
      });
      const fromNode = MAPPERS[label]({ ...node, properties: watched });
      expect([...read].filter((key) => !(key in projected.properties))).toEqual([]);
      expect(MAPPERS[label](projected)).toEqual(fromNode);
      expect(projected.properties).not.toHaveProperty('leaseOwner');
    },
  );

  it('agent.tasks reads only the properties a query selects, and answers the same', async () => {
    // The same tasks three ways: a few plain fields (read alone), every plain field, and plain
    // fields with a field resolver beside them (read whole).
    const plain = 'id title status priority createdAt updatedAt result decision family';
    const answers = await Promise.all(
      ['id title status', plain, `${plain} assignee { id }`].map((fields) =>
        server.gql<{ agent: { tasks: Record<string, unknown>[] } }, never>(
          `{ agent(id: "${ids.Agent}") { tasks(first: 5) { ${fields} } } }`,
        ),
      ),
    );
    for (const a of answers) expect(a.errors).toBeUndefined();
    const [few, all, withResolver] = answers.map((a) => a.data!.agent.tasks);
    expect(few).toEqual([{ id: ids.Task, title: 'Projected', status: all![0]!.status }]);
    expect(all![0]).toMatchObject({
      id: ids.Task,
      result: 'r',
      decision: 'APPROVED',
      family: 'fam',
      updatedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(withResolver).toEqual([{ ...all![0], assignee: { id: ids.Agent } }]);
    // What the narrow read asked Neo4j for: the selected properties and the id, as a list
    // (decoded several times faster than a map).
    const cypher = projection('Task', ['title', 'status']).of('t');
    expect(cypher).toMatch(/, t\.id, t\.title, t\.status\]$/);
  });

  it('a narrow projection carries the element id only for a node its id cannot name', async () => {
    const narrow = projection('Task', ['title']);
    const [good, bad] = await server.graph.write((tx) =>
      tx.run<{ projected: unknown; elementId: string }>({
        cypher: `
          MATCH (good:Task {id: $id})
          CREATE (bad:Task {id: 42, title: 'No id as text'})
          WITH [good, bad] AS both UNWIND both AS n
          RETURN ${narrow.of('n')} AS projected, elementId(n) AS elementId`,
        params: { id: ids.Task },
      }),
    );
    await server.graph.write((tx) => tx.run({ cypher: 'MATCH (n:Task {id: 42}) DELETE n' }));
    expect(narrow.node(good!.projected)).toEqual({
      elementId: null,
      properties: { id: ids.Task, title: 'Projected' },
    });
    expect(narrow.node(bad!.projected).elementId).toBe(bad!.elementId);
  });
});
