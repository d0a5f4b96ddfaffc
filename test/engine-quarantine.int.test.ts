import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoExecutor } from '../src/engine/executor.js';
import { allFinished, byKey, startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 9: one tenant's unreadable row (a READY step without createdAt) made the shared claim
 * roll back on every poll, so no tenant's workflow moved. The engine now quarantines such a row
 * once and goes on.
 */

async function startPlan(server: TestServer, name: string): Promise<string> {
  const agents = await server.gql(`mutation {
    createAgents(inputs: [{ name: "${name}", role: MASTER_OPERATOR }]) { id } }`);
  expect(agents.errors).toBeUndefined();
  const plan = await server.gql(`mutation {
    createTasks(inputs: [
      { key: "root", title: "Control" },
      { key: "a", title: "A", parentKey: "root" },
      { key: "b", title: "B", parentKey: "root", dependsOnKeys: ["a"] }
    ]) { id } }`);
  expect(plan.errors).toBeUndefined();
  const root = (plan.data as { createTasks: { id: string }[] }).createTasks[0]!.id;
  const started = await server.gql(`mutation { startWorkflow(taskId: "${root}") { id } }`);
  expect(started.errors).toBeUndefined();
  return root;
}

type Quarantined = {
  labels: string[];
  status: unknown;
  active: unknown;
  quarantinedFrom: unknown;
  quarantineReason: unknown;
  waitingReason: unknown;
};

async function stateOf(server: TestServer, label: 'Task' | 'Agent', id: string) {
  const [row] = await server.graph.read((tx) =>
    tx.run<Quarantined>({
      cypher: `MATCH (n:${label} {id: $id}) RETURN labels(n) AS labels, n.status AS status,
                 n.active AS active, n.quarantinedFrom AS quarantinedFrom,
                 n.quarantineReason AS quarantineReason, n.waitingReason AS waitingReason`,
      params: { id },
    }),
  );
  return row!;
}

describe('a row the engine cannot read', () => {
  let control: TestServer;
  let poisoned: TestServer;
  const badTask = randomUUID();
  const badPending = randomUUID();
  const badAgent = randomUUID();

  beforeAll(async () => {
    control = await startTestServer();
    poisoned = await startTestServer();
    // Inserted by raw Cypher, as the import did: URGENT, so every claim picks it first.
    // The agent has no name, which every claim reads (a claim reads the rest of an agent only
    // once it has chosen it).
    await poisoned.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (:Task {id: $badTask, tenantId: $tenantId, title: 'poison', status: 'READY',
                         orchestrated: true, priority: 'URGENT', attempts: 0, maxAttempts: 3,
                         version: 1, waitingReason: 'no agent has room'})
          CREATE (:Task {id: $badPending, tenantId: $tenantId, title: 'poison too',
                         status: 'PENDING', orchestrated: true, priority: 'SOON', attempts: 0,
                         maxAttempts: 3, version: 1, createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Agent {id: $badAgent, tenantId: $tenantId, role: 'MASTER_OPERATOR',
                          status: 'IDLE', active: true, version: 1, createdAt: 'not a time'})`,
        params: { badTask, badPending, badAgent, tenantId: poisoned.tenantId },
      }),
    );
  });
  afterAll(async () => {
    await control?.stop();
    await poisoned?.stop();
  });

  it('is quarantined exactly once while other tenants and its own tenant go on', async () => {
    const events: { label: string; id: string | null; reason: string }[] = [];
    const feed = control.pubsub.subscribe('NODE_QUARANTINED');
    void (async () => {
      for await (const e of feed) events.push(e as (typeof events)[number]);
    })();
    const controlRoot = await startPlan(control, 'Operator');
    const ownRoot = await startPlan(poisoned, 'Operator');
    const scheduler = startScheduler(control, echoExecutor(), {
      tenantIds: [poisoned.tenantId, control.tenantId],
    });
    try {
      // Before issue 9, the control workflow stayed IN_PROGRESS for as long as the row existed.
      const done = await waitForWorkflow(control, controlRoot, allFinished, 60_000);
      expect(byKey(done).root!.status).toBe('COMPLETED');
      // The poisoned tenant's own good workflow runs too (its broken agent is set aside).
      const own = await waitForWorkflow(poisoned, ownRoot, allFinished, 60_000);
      expect(byKey(own).root!.status).toBe('COMPLETED');
      expect(byKey(own).a!.assignment?.agent.name).toBe('Operator');
      // A second control workflow: many more claims after the quarantine, none picks it again.
      const again = await startPlan(control, 'Second operator');
      const second = await waitForWorkflow(control, again, allFinished, 60_000);
      expect(byKey(second).root!.status).toBe('COMPLETED');
    } finally {
      await scheduler.stop();
      await feed.return?.();
    }

    const task = await stateOf(poisoned, 'Task', badTask);
    expect(task.labels).toContain('Quarantined');
    expect(task).toMatchObject({ status: 'FAILED', quarantinedFrom: 'READY' });
    // A FAILED task waits for nothing: the reason it waited with goes.
    expect(task.waitingReason).toBeNull();
    expect(String(task.quarantineReason)).toContain('createdAt must be a date-time');
    const pending = await stateOf(poisoned, 'Task', badPending);
    expect(pending.labels).toContain('Quarantined');
    expect(String(pending.quarantineReason)).toContain('priority must be one of');
    const agent = await stateOf(poisoned, 'Agent', badAgent);
    expect(agent.labels).toContain('Quarantined');
    expect(agent.active).toBe(false);

    const announced = (id: string) => events.filter((e) => e.id === id).length;
    expect(announced(badTask)).toBe(1);
    expect(announced(badPending)).toBe(1);
    expect(announced(badAgent)).toBe(1);

    // Announced to the tenant's admins too, once per node, in the audit trail.
    const audit = await poisoned.gql(
      `query { auditEvents(filter: { operation: "engine.quarantine" }, first: 100) { nodes { targetIds outcome code } } }`,
    );
    expect(audit.errors).toBeUndefined();
    const trail = (
      audit.data as { auditEvents: { nodes: { targetIds: string[]; code: string }[] } }
    ).auditEvents.nodes;
    expect(trail.map((e) => e.targetIds[0]).sort()).toEqual([badTask, badPending, badAgent].sort());
    expect(trail.every((e) => e.code.startsWith('MALFORMED_NODE'))).toBe(true);
  }, 200_000);

  it('answers a typed error naming the node, not INTERNAL_SERVER_ERROR, when it is read', async () => {
    const res = await poisoned.gql(`query { node(id: "${badTask}") { id } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('MALFORMED_NODE');
    expect(res.errors?.[0]?.message).toContain(`Task "${badTask}" cannot be read: createdAt`);
    // startWorkflow on it answered INTERNAL_SERVER_ERROR too (issue 9).
    const started = await poisoned.gql(`mutation { startWorkflow(taskId: "${badTask}") { id } }`);
    expect(started.errors?.[0]?.extensions?.code).toBe('MALFORMED_NODE');
  });

  it("leaves an unreadable node out of its tenant's lists instead of failing them", async () => {
    const tasks = await poisoned.gql(`query { tasks(first: 100) { nodes { id title } } }`);
    expect(tasks.errors).toBeUndefined();
    const ids = (tasks.data as { tasks: { nodes: { id: string }[] } }).tasks.nodes.map((t) => t.id);
    expect(ids).not.toContain(badTask);
    expect(ids).not.toContain(badPending);
    expect(ids.length).toBeGreaterThanOrEqual(3); // the tenant's own good workflow
    const agents = await poisoned.gql(`query { agents(first: 100) { nodes { id name } } }`);
    expect(agents.errors).toBeUndefined();
    const names = (agents.data as { agents: { nodes: { name: string }[] } }).agents.nodes;
    expect(names.map((a) => a.name)).toEqual(['Operator']);
  });
});
