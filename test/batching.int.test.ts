import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';

const SeedAgents = graphql(`
  mutation SeedAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
    }
  }
`);

const SeedTasks = graphql(`
  mutation SeedTasks($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
    }
  }
`);

const Organisation = graphql(`
  query Organisation($first: Int!, $filter: AgentFilter) {
    agents(first: $first, filter: $filter) {
      nodes {
        name
        capabilities {
          name
        }
        taskCounts {
          status
          count
        }
        tasks {
          title
          requiredCapabilities
          assignee {
            name
          }
          subtasks {
            title
          }
        }
      }
    }
  }
`);

describe('nested fields', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  /** Creates `count` agents named "<prefix> n", each with a capability and two tasks. */
  async function seed(prefix: string, count: number) {
    const agents = await server.gql(SeedAgents, {
      inputs: Array.from({ length: count }, (_, i) => ({
        name: `${prefix} ${i}`,
        role: 'MASTER_OPERATOR' as const,
        capabilities: [{ name: `${prefix}-skill` }],
      })),
    });
    const ids = agents.data!.createAgents.map((a) => a.id);
    const tasks = await server.gql(SeedTasks, {
      inputs: ids.flatMap((id, i) => [
        { key: `p${i}`, title: `${prefix} job ${i}`, assigneeId: id, requiredCapabilities: ['x'] },
        { title: `${prefix} step ${i}`, assigneeId: id, parentKey: `p${i}` },
      ]),
    });
    expect(tasks.errors).toBeUndefined();
  }

  /** Statements sent to Neo4j while answering the query. */
  async function roundTrips(prefix: string, count: number) {
    await server.gql('{ viewer { keyId } }'); // the key's lookup is cached from here on
    const query = () => server.gql(Organisation, { first: 100, filter: { text: `${prefix} ` } });
    const answers: Awaited<ReturnType<typeof query>>[] = [];
    const sent = await statementsFor(server, async () => answers.push(await query()));
    const res = answers.at(-1)!;
    expect(res.errors).toBeUndefined();
    const agents = res.data!.agents.nodes;
    expect(agents).toHaveLength(count);
    for (const agent of agents) {
      expect(agent.capabilities).toEqual([{ name: `${prefix}-skill` }]);
      expect(agent.tasks).toHaveLength(2);
      expect(agent.taskCounts).toEqual([{ status: 'PENDING', count: 2 }]);
      const parent = agent.tasks.find((t) => t.title.includes(' job '))!;
      expect(parent.subtasks).toHaveLength(1);
      expect(parent.assignee?.name).toBe(agent.name);
    }
    return sent;
  }

  it('cost the same number of Cypher round trips for 5 agents as for 50', async () => {
    await seed('Small', 5);
    await seed('Large', 50);
    const small = await roundTrips('Small', 5);
    const large = await roundTrips('Large', 50);
    // the list (no totalCount asked), then one statement per nested field level
    expect(small).toBeLessThanOrEqual(9);
    expect(large).toBe(small);
  });
});
