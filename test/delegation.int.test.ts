import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOfflineAgents, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

const HOLDERS = 6;
const WORKFLOW_MS = 60_000;

/**
 * Issue 15 (bench:agents, 1,000 operators): each planned step's DELEGATION went to every
 * operator with its capability, about 1,000 TO edges a plan (200k of the 272k nodes and
 * relationships of 200 tasks) and as many recipient ids in each event. It goes to the few
 * least busy of them, those the plan's team description names; the engine assigns one.
 */
describe('delegating a plan’s steps', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const operators = ['research', 'analysis', 'writing'].flatMap((capability) =>
      Array.from({ length: HOLDERS }, (_, i) => ({
        name: `${capability} ${i + 1}`,
        role: 'MASTER_OPERATOR',
        capabilities: [{ name: capability }],
      })),
    );
    const res = await server.gql(
      `mutation($inputs: [CreateAgentInput!]!) { createAgents(inputs: $inputs) { id } }`,
      { inputs: [{ name: 'Chief', role: 'CHIEF_OF_STAFF' }, ...operators] },
    );
    expect(res.errors).toBeUndefined();
  });
  afterAll(() => server.stop());

  it('addresses each step to the few least busy holders of its capability', async () => {
    const scheduler = startOfflineAgents(server, { leaseMs: 10_000 });
    try {
      const submitted = await server.gql(
        `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
        {
          input: {
            title: 'Electric bike market brief',
            description:
              'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.',
          },
        },
      );
      expect(submitted.errors).toBeUndefined();
      const rootId = (submitted.data as { submitTask: { id: string } }).submitTask.id;
      await waitForWorkflow(
        server,
        rootId,
        (all) => all.find((t) => t.id === rootId)?.status === 'COMPLETED',
        WORKFLOW_MS,
      );
    } finally {
      await scheduler.stop();
    }
    const delegations = await server.graph.read((tx) =>
      tx.run<{ capability: string; to: string[]; holders: boolean[] }>({
        cypher: `
          MATCH (m:Message {tenantId: $tenantId, kind: 'DELEGATION'})-[:ABOUT]->(s:Task)
                -[:REQUIRES]->(c:Capability)
          RETURN c.name AS capability,
                 [(m)-[:TO]->(a:Agent) | a.name] AS to,
                 [(m)-[:TO]->(a:Agent) | EXISTS { (a)-[:HAS_CAPABILITY]->(c) }] AS holders`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(delegations.length).toBeGreaterThanOrEqual(2);
    for (const d of delegations) {
      expect(d.to, d.capability).toHaveLength(3);
      expect(d.holders.every(Boolean), `${d.capability}: ${d.to.join(', ')}`).toBe(true);
    }
  });
});
