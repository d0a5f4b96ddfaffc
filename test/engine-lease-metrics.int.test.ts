import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepNow } from './utils/engine.js';
import { captureLogger } from './utils/log-capture.js';
import { startPlan } from './utils/engine-steps.js';
import { metricNow } from './utils/prom-text.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 17: a lease that expires is counted, and logged, where the sweep puts its step back.

describe('engine_lease_expiries_total', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('counts and logs each step a sweep puts back because its worker stopped renewing the lease', async () => {
    const ids = await startPlan(server, [
      { key: 'root', title: 'Lease survey' },
      { key: 'a', parentKey: 'root', title: 'Held by a worker that died' },
      { key: 'b', parentKey: 'root', title: 'Held by another that died' },
    ]);
    // What a worker killed mid-step leaves: its steps IN_PROGRESS under a lease in the past.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $ids
                 SET t.status = 'IN_PROGRESS', t.attempts = 1, t.leaseOwner = 'killed-worker',
                     t.leaseExpiresAt = datetime() - duration('PT1M')`,
        params: { tenantId: server.tenantId, ids: [ids.a, ids.b] },
      }),
    );
    // Step a's attempt, as the claim recorded it: its run and its agent.
    const made = await server.gql(
      `mutation { createAgent(input: { name: "Lost", role: MASTER_OPERATOR }) { id } }`,
    );
    const agentId = (made.data as { createAgent: { id: string } }).createAgent.id;
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Task {id: $taskId}), (a:Agent {id: $agentId})
                 CREATE (t)-[:ASSIGNED_TO]->(a),
                        (:Run {id: 'lost-run-a', tenantId: $tenantId, status: 'RUNNING'})-[:OF]->(t)`,
        params: { tenantId: server.tenantId, taskId: ids.a, agentId },
      }),
    );
    const before = await metricNow('engine_lease_expiries_total');
    const { logger, entries } = captureLogger();
    await sweepNow(server, logger);
    expect((await metricNow('engine_lease_expiries_total')) - before).toBe(2);
    // As a failure, a retry or a timeout: logged with its task, run and agent ids.
    const logged = entries.filter((e) => /lease expired/.test(e.msg));
    expect(logged).toHaveLength(2);
    // The worker may be alive and cut off from the database: it said "stopped answering".
    const lapsed =
      'lease expired: worker killed-worker did not renew it (stopped, or could not reach the database)';
    expect(logged.map((e) => e.msg)).toEqual([
      `${lapsed}; the step is READY again`,
      `${lapsed}; the step is READY again`,
    ]);
    expect(logged.find((e) => e.taskId === ids.a)).toMatchObject({
      level: 40,
      runId: 'lost-run-a',
      agentId,
      worker: 'killed-worker',
    });
    const rows = await server.graph.read((tx) =>
      tx.run<{ status: string; error: string }>({
        cypher: `MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $ids
                 RETURN t.status AS status, t.error AS error`,
        params: { tenantId: server.tenantId, ids: [ids.a, ids.b] },
      }),
    );
    expect(rows).toEqual([
      { status: 'READY', error: lapsed },
      { status: 'READY', error: lapsed },
    ]);
    const run = await server.graph.read((tx) =>
      tx.run<{ status: string; error: string }>({
        cypher: `MATCH (r:Run {id: 'lost-run-a', tenantId: $tenantId})
                 RETURN r.status AS status, r.error AS error`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(run).toEqual([{ status: 'ABANDONED', error: lapsed }]);
    // A second sweep finds nothing more to put back.
    await sweepNow(server);
    expect((await metricNow('engine_lease_expiries_total')) - before).toBe(2);
  });
});
