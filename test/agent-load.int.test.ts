import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeChiefOfStaff } from '../graph/agent.repository.js';
import { candidateAgents } from '../graph/claim.repository.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { profiler } from './utils/profile.js';

/**
 * The load that assignment weighs (steps an agent runs now) used to be counted by walking every
 * task ever assigned to each agent: every claim grew with the agents' history. Work is measured
 * as PROFILE db hits, never as time.
 */
describe("candidate agents' load", () => {
  let server: TestServer;
  const prof = profiler();
  let busyId = '';
  const other = `other-${randomUUID()}`;

  /** Tasks assigned to the agent, in `status`, as raw rows (history or running work). */
  const assign = (agentId: string, count: number, status: string, leaseOwner: string | null) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {id: $agentId})
          UNWIND range(1, $count) AS i
          CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: 'old ' + toString(i),
                          status: $status, orchestrated: true, priority: 'MEDIUM', attempts: 1,
                          maxAttempts: 3, version: 1, leaseOwner: $leaseOwner,
                          createdAt: datetime(), updatedAt: datetime()})-[:ASSIGNED_TO]->(a)`,
        params: { agentId, count, status, leaseOwner, tenantId: server.tenantId },
      }),
    );
  const measure = () => prof.measure((tx) => candidateAgents(tx, [server.tenantId]));

  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql<{ createAgents: { id: string; name: string }[] }, never>(
      `mutation { createAgents(inputs: [
        { name: "Busy", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Idle", role: MASTER_OPERATOR }
      ]) { id name } }`,
    );
    expect(res.errors).toBeUndefined();
    busyId = res.data!.createAgents.find((a) => a.name === 'Busy')!.id;
    await assign(busyId, 3, 'IN_PROGRESS', 'worker-1');
    await assign(busyId, 20, 'COMPLETED', null);
  });
  afterAll(async () => {
    if (server) await deleteTenant(server.graph, other);
    await server?.stop();
    await prof.close();
  });

  it('counts the steps each agent runs now', async () => {
    const { result } = await measure();
    const load = Object.fromEntries(result.map((c) => [c.agent.name, c.load]));
    expect(load).toEqual({ Busy: 3, Idle: 0 });
    expect(result.find((c) => c.agent.name === 'Busy')!.capabilities.map((c) => c.name)).toEqual([
      'research',
    ]);
  });

  it("does not grow with other tenants' agents", async () => {
    const before = await measure();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, 2000) AS i
          CREATE (:Agent {id: randomUUID(), tenantId: $other, name: 'agent ' + toString(i),
                          role: 'MASTER_OPERATOR', status: 'IDLE', active: true})`,
        params: { other },
      }),
    );
    const after = await measure();
    // Before the fix every claim read every agent in the database.
    expect(after.dbHits, `before:\n${before.plans}\nafter:\n${after.plans}`).toBeLessThan(
      before.dbHits * 1.5,
    );
  });

  it('does not grow with the tasks they finished long ago', async () => {
    const before = await measure();
    await assign(busyId, 3_000, 'COMPLETED', null);
    const after = await measure();
    expect(after.result.find((c) => c.agent.name === 'Busy')!.load).toBe(3);
    // Before the fix it grew with the history (about 100x here).
    expect(after.dbHits, `before:\n${before.plans}\nafter:\n${after.plans}`).toBeLessThan(
      before.dbHits * 1.5,
    );
  });
});

/** The same for the Chief of Staff that submitTask picks: its unfinished tasks, not its history. */
describe("a Chief of Staff's load", () => {
  let server: TestServer;
  const prof = profiler();
  let chiefId = '';

  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql<{ createAgents: { id: string }[] }, never>(
      `mutation { createAgents(inputs: [{ name: "Chief", role: CHIEF_OF_STAFF }]) { id } }`,
    );
    expect(res.errors).toBeUndefined();
    chiefId = res.data!.createAgents[0]!.id;
  });
  afterAll(async () => {
    await server?.stop();
    await prof.close();
  });

  const assignToChief = (count: number, status: string) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {id: $chiefId})
          UNWIND range(1, $count) AS i
          CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'submitted ' + toString(i),
                         status: $status, orchestrated: true, priority: 'MEDIUM', attempts: 0,
                         maxAttempts: 3, version: 1, createdAt: datetime(),
                         updatedAt: datetime()})-[:ASSIGNED_TO]->(a)`,
        params: { chiefId, count, status, tenantId: server.tenantId },
      }),
    );
  const pick = () => prof.measure((tx) => activeChiefOfStaff(tx, server.tenantId, null));

  it('counts the unfinished tasks, and does not grow with the finished ones', async () => {
    await assignToChief(2, 'IN_PROGRESS');
    await assignToChief(20, 'COMPLETED');
    const before = await pick();
    expect(before.result).toMatchObject({ chief: { id: chiefId }, unfinished: 2 });
    await assignToChief(3_000, 'COMPLETED');
    const after = await pick();
    expect(after.result).toMatchObject({ chief: { id: chiefId }, unfinished: 2 });
    // Before the fix it walked every task ever submitted to the chief.
    expect(after.dbHits, `before:\n${before.plans}\nafter:\n${after.plans}`).toBeLessThan(
      before.dbHits * 1.5,
    );
  });
});
