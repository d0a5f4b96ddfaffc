import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEvaluations } from './utils/memory-fixtures.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';

/* Run/Task.evaluations and .evaluation load per field level, never per parent (issue 12). */

const QUERY = `query($text: String!) { tasks(first: 100, filter: { text: $text }) { nodes {
  evaluations { id source } evaluation { source score }
  runs { evaluations { id source } evaluation { source score } } } } }`;

interface Answer {
  tasks: {
    nodes: {
      evaluations: { source: string }[];
      evaluation: { source: string; score: number } | null;
      runs: { evaluations: { source: string }[]; evaluation: { source: string } | null }[];
    }[];
  };
}

describe('loading evaluations', () => {
  let server: TestServer;
  let agentId: string;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(
      `mutation { createAgents(inputs: [{ name: "Judged", role: MASTER_OPERATOR }]) { id } }`,
    );
    expect(res.errors).toBeUndefined();
    agentId = (res.data as unknown as { createAgents: { id: string }[] }).createAgents[0]!.id;
  });
  afterAll(() => server?.stop());

  async function seed(prefix: string, count: number) {
    const res = await server.gql(
      `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: count }, (_, i) => ({ title: `${prefix} job ${i}` })),
      } as never,
    );
    expect(res.errors).toBeUndefined();
    for (const { id } of (res.data as unknown as { createTasks: { id: string }[] }).createTasks) {
      await seedEvaluations(server.graph, server.tenantId, prefix, id, agentId);
    }
  }

  async function roundTrips(prefix: string, count: number) {
    await server.gql('{ viewer { keyId } }'); // the key's lookup is cached from here on
    let answer: Answer | undefined;
    const sent = await statementsFor(server, async () => {
      const res = await server.gql(QUERY, { text: `${prefix} ` } as never);
      expect(res.errors).toBeUndefined();
      answer = res.data as unknown as Answer;
    });
    const tasks = answer!.tasks.nodes;
    expect(tasks).toHaveLength(count);
    for (const t of tasks) {
      expect(t.evaluations.map((e) => e.source)).toEqual(['PERSON']);
      expect(t.evaluation).toEqual({ source: 'PERSON', score: 0.5 });
      expect(t.runs).toHaveLength(2);
      for (const r of t.runs) {
        expect(r.evaluations.map((e) => e.source)).toEqual(['OBJECTIVE']);
        expect(r.evaluation?.source).toBe('OBJECTIVE');
      }
    }
    return sent;
  }

  it('costs the same number of Cypher round trips for 3 tasks as for 30', async () => {
    await seed('Few', 3);
    await seed('Many', 30);
    expect(await roundTrips('Many', 30)).toBe(await roundTrips('Few', 3));
  });
});
