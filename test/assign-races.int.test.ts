import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockAgent } from '../graph/agent.repository.js';
import { lockTask, patchTask } from '../graph/task.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import type { Executor } from '../src/engine/executor.js';
import { untilBlocked } from './utils/blocked.js';
import { createOperators, eventually, startPlan, withScheduler } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Giving a task to an agent that is being deactivated (task-plans: assigning at rest). An
 * inactive agent takes no new work; assignTask and createTask read the agent without its lock,
 * so an agent deactivated before they wrote was given the task anyway. A deactivation gives back
 * the agent's running steps, read under their locks: a step that became a plan meanwhile is not;
 * a deletion hands on its open tasks so too. The engine's claim reads the agents without their
 * locks too: it starts no step on one deactivated before its runs were written.
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

it('leaves a task whose step expanded into a plan while the agent was being deactivated running', async () => {
  const created = await server.gql(
    `mutation { createAgent(input: { name: "Planner", role: CHIEF_OF_STAFF }) { id } }`,
  );
  const agentId = (created.data as { createAgent: { id: string } }).createAgent.id;
  const [taskId, stepId] = [randomUUID(), randomUUID()];
  await server.graph.write((tx) =>
    tx.run({
      cypher: `
        MATCH (a:Agent {id: $agentId})
        CREATE (t:Task {id: $taskId, tenantId: $tenantId, title: 'plan me', status: 'IN_PROGRESS',
                        orchestrated: true, attempts: 1, version: 0, priority: 'MEDIUM',
                        leaseOwner: 'worker-1', leaseExpiresAt: datetime() + duration('PT1M'),
                        createdAt: datetime(), updatedAt: datetime()})
               -[:ASSIGNED_TO {score: 1, reason: 'chief', at: datetime()}]->(a)
        CREATE (:Run {id: randomUUID(), tenantId: $tenantId, status: 'RUNNING',
                      startedAt: datetime()})-[:OF]->(t)`,
      params: { tenantId: server.tenantId, agentId, taskId },
    }),
  );
  let deactivated: Promise<unknown> | undefined;
  // The planning step's end (as endRun writes a plan) holds the task's lock until it commits:
  // the task is a running parent now, no longer the agent's step. The deactivation starts
  // meanwhile.
  await server.graph.write(async (tx) => {
    await lockTask(tx, server.tenantId, taskId);
    await tx.run({
      cypher: `
        MATCH (t:Task {id: $taskId})<-[:OF]-(r:Run)
        SET t.leaseOwner = null, t.leaseExpiresAt = null, r.status = 'SUCCEEDED',
            r.endedAt = datetime()
        CREATE (:Task {id: $stepId, tenantId: $tenantId, key: 'step-1', title: 'step',
                       status: 'READY', orchestrated: true, attempts: 0, version: 0,
                       priority: 'MEDIUM', createdAt: datetime(), updatedAt: datetime()})
               -[:SUBTASK_OF]->(t)`,
      params: { tenantId: server.tenantId, taskId, stepId },
    });
    deactivated = server.gql(`mutation($id: ID!) { deactivateAgent(id: $id) { active } }`, {
      id: agentId,
    } as never);
    await untilBlocked(server.graph, 'the deactivation to wait for the task', {
      name: 'agentId',
      value: agentId,
    });
  });
  expect(await deactivated).toMatchObject({ data: { deactivateAgent: { active: false } } });
  const read = await server.gql(`query($id: ID!) { task(id: $id) { status attempts } }`, {
    id: taskId,
  } as never);
  expect(read.data).toEqual({ task: { status: 'IN_PROGRESS', attempts: 1 } });
});

it('hands a deleted agent’s task that completed meanwhile to nobody', async () => {
  const created = await server.gql(`mutation { createAgents(inputs: [
    { name: "Departing", role: MASTER_OPERATOR }, { name: "Successor", role: MASTER_OPERATOR }])
    { id } }`);
  const [departing, successor] = (
    created.data as { createAgents: { id: string }[] }
  ).createAgents.map((a) => a.id) as [string, string];
  const task = await server.gql(
    `mutation($a: ID) { createTask(input: { title: "finishing", assigneeId: $a }) { id } }`,
    { a: departing } as never,
  );
  const taskId = (task.data as { createTask: { id: string } }).createTask.id;
  let deleted: Promise<unknown> | undefined;
  // The task's end holds its lock until it commits; the deletion, which read it as open,
  // starts meanwhile.
  await server.graph.write(async (tx) => {
    await lockTask(tx, server.tenantId, taskId);
    await patchTask(tx, server.tenantId, taskId, { status: TaskStatus.COMPLETED, result: 'done' });
    deleted = server.gql(
      `mutation($id: ID!, $to: ID) { deleteAgent(id: $id, reassignTo: $to) { reassignedTaskIds } }`,
      { id: departing, to: successor } as never,
    );
    await untilBlocked(server.graph, 'the deletion to wait for the task', {
      name: 'toId',
      value: successor,
    });
  });
  expect(await deleted).toMatchObject({ data: { deleteAgent: { reassignedTaskIds: [] } } });
  const read = await server.gql(
    `query($id: ID!) { task(id: $id) { assignment { agent { id } } } }`,
    {
      id: taskId,
    } as never,
  );
  expect(read.data).toEqual({ task: { assignment: null } });
});

it('starts no step on an agent deactivated while the engine claimed the step for it', async () => {
  const { Claimed: agentId } = await createOperators(server, { Claimed: ['race-work'] });
  // Earlier tests left steps of their own READY: what matters is who ran this one.
  const ran: string[] = [];
  const executor: Executor = async ({ task, agent }) => {
    ran.push(`${task.key} by ${agent.name}`);
    return { result: 'done' };
  };
  await withScheduler(server, executor, async () => {
    let ids: Record<string, string> = {};
    // The deactivation holds the agent's lock until it commits; the claim reads the agent as
    // active meanwhile, then waits for it to start the run.
    await server.graph.write(async (tx) => {
      await lockAgent(tx, server.tenantId, agentId!);
      await tx.run({
        cypher: "MATCH (a:Agent {id: $agentId}) SET a.active = false, a.status = 'OFFLINE'",
        params: { agentId },
      });
      ids = await startPlan(server, [
        { key: 'root', title: 'Race' },
        { key: 'step', title: 'Work', parentKey: 'root', requiredCapabilities: ['race-work'] },
      ]);
      await untilBlocked(server.graph, 'the claim to wait for the agent', {
        query: 'CREATE (r:Run',
      });
    });
    const step = await eventually('the step to wait for another agent', async () => {
      const read = await server.gql(
        `query($id: ID!) { task(id: $id) { status waitingReason runs { status } } }`,
        { id: ids.step } as never,
      );
      const task = (read.data as { task: { status: string; waitingReason: string | null } }).task;
      // READY with a reason: it waits; ended: it ran on the inactive agent.
      return (task.status === 'READY' && task.waitingReason) || task.status === 'COMPLETED'
        ? task
        : null;
    });
    expect(step).toMatchObject({ status: 'READY', runs: [] });
  });
  expect(ran).not.toContain('step by Claimed');
});
