import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepNow } from './utils/engine.js';
import { startPlan } from './utils/engine-steps.js';
import { metricNow } from './utils/prom-text.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 17: a lease that expires is counted where the sweep puts its step back.

describe('engine_lease_expiries_total', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('counts each step a sweep puts back because its worker stopped renewing the lease', async () => {
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
    const before = await metricNow('engine_lease_expiries_total');
    await sweepNow(server);
    expect((await metricNow('engine_lease_expiries_total')) - before).toBe(2);
    const rows = await server.graph.read((tx) =>
      tx.run<{ status: string; error: string }>({
        cypher: `MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $ids
                 RETURN t.status AS status, t.error AS error`,
        params: { tenantId: server.tenantId, ids: [ids.a, ids.b] },
      }),
    );
    expect(rows).toEqual([
      { status: 'READY', error: 'lease expired: worker killed-worker stopped answering' },
      { status: 'READY', error: 'lease expired: worker killed-worker stopped answering' },
    ]);
    // A second sweep finds nothing more to put back.
    await sweepNow(server);
    expect((await metricNow('engine_lease_expiries_total')) - before).toBe(2);
  });
});
