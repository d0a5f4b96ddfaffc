import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyClaimable, claimReadyTasks } from '../graph/claim.repository.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { profiler } from './utils/profile.js';

/**
 * Issue 15: every claim sorted all READY steps of the database (of every tenant) to take the
 * first few, and concurrent claimers all took the same head. Work is measured as PROFILE db
 * hits, never as time; the claims run in transactions that are rolled back.
 */
describe('claiming READY steps', () => {
  let server: TestServer;
  const bigTenant = `big-${randomUUID()}`;
  const prof = profiler();

  /**
   * READY orchestrated steps, the first the oldest. The big tenant's are URGENT and older than
   * any other suite's: a claim for all tenants then picks and locks only them, never a step of
   * a suite running beside this one on the same database.
   */
  const addReady = (
    tenantId: string,
    count: number,
    priority = 'MEDIUM',
    ageFrom = 0,
    orchestrated = true,
  ) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(0, $count - 1) AS i
          CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'step ' + toString(i),
                         status: 'READY', orchestrated: $orchestrated, priority: $priority, attempts: 0,
                         maxAttempts: 3, version: 1,
                         createdAt: datetime() - duration({seconds: 100000 - $ageFrom - i}),
                         updatedAt: datetime()})`,
        params: { tenantId, count, priority, ageFrom, orchestrated },
      }),
    );
  const claim = (limit: number, tenants: string[] | null) =>
    prof.measure((tx) => claimReadyTasks(tx, 'worker-test', limit, 30_000, tenants));

  beforeAll(async () => {
    server = await startTestServer();
    await addReady(server.tenantId, 40);
    await addReady(bigTenant, 200, 'URGENT', -4e9);
  });
  afterAll(async () => {
    await deleteTenant(server.graph, bigTenant);
    await server?.stop();
    await prof.close();
  });

  it('plans the head as an ordered index read, even on a database of few tasks', async () => {
    // Plans are made afresh from the statistics of now: on a fresh database (a few hundred
    // tasks) the planner split the due test's OR into a union of two index reads, which lost
    // their order and sorted every READY step of the tenant to take the head; that plan stayed
    // cached while the queue grew (CI, issue 15).
    await server.graph.write((tx) => tx.run({ cypher: 'CALL db.clearQueryCaches()' }));
    for (const tenants of [[server.tenantId], null]) {
      const plans = [
        (await prof.measure((tx) => anyClaimable(tx, tenants))).plans,
        (await claim(4, tenants)).plans,
      ];
      for (const plan of plans) {
        expect(plan).not.toMatch(/^\s*(Union|Top hits=\S+ rows=\S+ .*t\.orchestrated)/m);
        expect(plan).toMatch(/NodeIndexSeek .*priority, createdAt\)/);
      }
    }
  });

  it('reads the head of the queue, not the whole queue', async () => {
    // For all tenants too: the round robin's seek for the next tenant, and its head.
    const before = [await claim(4, [server.tenantId]), await claim(4, null)];
    // Fifteen times as many READY steps in another tenant.
    await addReady(bigTenant, 2_800, 'URGENT', -4e9 + 1_000);
    const after = [await claim(4, [server.tenantId]), await claim(4, null)];
    // Before the fix it grew with the whole queue (by about 25,000 db hits here).
    for (const [i, b] of before.entries()) {
      expect(after[i]!.dbHits, `before:\n${b.plans}\nafter:\n${after[i]!.plans}`).toBeLessThan(
        b.dbHits * 1.5,
      );
    }
  });

  it('reads the head of its own tenant’s queue, not the whole of it', async () => {
    const before = await claim(4, [server.tenantId]);
    const look = await prof.measure((tx) => anyClaimable(tx, [server.tenantId]));
    // Seventy times as many READY steps in the same tenant, younger than its head.
    await addReady(server.tenantId, 2_800, 'MEDIUM', 1_000);
    const after = await claim(4, [server.tenantId]);
    const lookAfter = await prof.measure((tx) => anyClaimable(tx, [server.tenantId]));
    // Before the fix both read every READY step of the tenant, twice (the claim about 45,000
    // db hits against 840 here): the claimable test's OR split the ordered index read in two.
    expect(after.dbHits, `before:\n${before.plans}\nafter:\n${after.plans}`).toBeLessThan(
      before.dbHits * 1.5,
    );
    expect(lookAfter.dbHits, `before:\n${look.plans}\nafter:\n${lookAfter.plans}`).toBeLessThan(
      look.dbHits * 1.5,
    );
  });

  it('does not read READY tasks that no workflow runs', async () => {
    // A claim for all tenants: the big tenant's URGENT steps, older than any other suite's, are
    // the only ones it picks and locks.
    const before = await claim(4, null);
    // Set READY by hand (not orchestrated), URGENT and older still: the head of the old index.
    await addReady(bigTenant, 3_000, 'URGENT', -5e9, false);
    const after = await claim(4, null);
    expect(after.result.map((c) => c.task.tenantId)).toEqual(Array(4).fill(bigTenant));
    expect(after.result.every((c) => c.task.orchestrated)).toBe(true);
    // Before the fix every claim read past all of them (about 9,000 db hits more here).
    expect(after.dbHits, `before:\n${before.plans}\nafter:\n${after.plans}`).toBeLessThan(
      before.dbHits * 1.5,
    );
  });

  it('takes the highest priority first, and spreads claims over the oldest of it', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const { result } = await claim(2, [server.tenantId]);
      expect(result).toHaveLength(2);
      for (const c of result) seen.set(c.task.title, (seen.get(c.task.title) ?? 0) + 1);
    }
    // Only the 8 oldest (4 x the limit), and not always the same two.
    const titles = [...seen.keys()];
    expect(titles.every((t) => Number(t.replace('step ', '')) < 8)).toBe(true);
    expect(titles.length).toBeGreaterThan(2);

    // The youngest step, but URGENT: every claim takes it first.
    await addReady(server.tenantId, 1, 'URGENT', 5_000);
    for (let i = 0; i < 5; i++) {
      const { result } = await claim(1, [server.tenantId]);
      expect(result.map((c) => c.task.priority)).toEqual(['URGENT']);
    }
  });
});
