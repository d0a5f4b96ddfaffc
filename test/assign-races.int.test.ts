import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockAgent } from '../graph/agent.repository.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Giving a task to an agent that is being deactivated (task-plans: assigning at rest). An
 * inactive agent takes no new work; assignTask and createTask read the agent without its lock,
 * so an agent deactivated before they wrote was given the task anyway.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function deactivatingMeanwhile(agentId: string, request: () => Promise<unknown>) {
  let answer: Promise<unknown> | undefined;
  // The deactivation holds the agent's lock until it commits; the request starts meanwhile.
  await server.graph.write(async (tx) => {
    await lockAgent(tx, server.tenantId, agentId);
    await tx.run({
      cypher: 'MATCH (a:Agent {id: $agentId}) SET a.active = false',
      params: { agentId },
    });
    answer = request();
    await untilBlocked(server.graph, 'the request to wait for the agent', {
      name: 'tenantId',
      value: server.tenantId,
    });
  });
  return (await answer) as { errors?: { message: string; extensions?: { code?: string } }[] };
}

it('refuses to give a task to an agent deactivated while the request waited for it', async () => {
  const created = await server.gql(`mutation { createAgents(inputs: [
    { name: "Leaving", role: MASTER_OPERATOR }, { name: "Leaving too", role: MASTER_OPERATOR }])
    { id } }`);
  const [one, two] = (created.data as { createAgents: { id: string }[] }).createAgents.map(
    (a) => a.id,
  ) as [string, string];
  const task = await server.gql(`mutation { createTask(input: { title: "work" }) { id } }`);
  const taskId = (task.data as { createTask: { id: string } }).createTask.id;

  const assigned = await deactivatingMeanwhile(one, () =>
    server.gql(`mutation($id: ID!, $a: ID!) { assignTask(id: $id, agentId: $a) { id } }`, {
      id: taskId,
      a: one,
    } as never),
  );
  expect(assigned.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  expect(assigned.errors?.[0]?.message).toMatch(/is inactive/);

  const createdFor = await deactivatingMeanwhile(two, () =>
    server.gql(`mutation($a: ID) { createTask(input: { title: "more", assigneeId: $a }) { id } }`, {
      a: two,
    } as never),
  );
  expect(createdFor.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  const read = await server.gql(
    `query($id: ID!) { task(id: $id) { assignment { agent { id } } } }`,
    {
      id: taskId,
    } as never,
  );
  expect(read.data).toEqual({ task: { assignment: null } });
});
