import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimReadyTasks } from '../graph/claim.repository.js';
import type { QueueCursor } from '../graph/queue-head.js';
import { profiler } from './utils/profile.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

/**
 * One tenant can never stop another: a claim took the oldest READY steps of the highest
 * priority whoever they belonged to, so a tenant that queued 60 steps held back every step
 * another tenant queued after them until all 60 had run. Claims now deal each tenant's steps
 * by turns (every tenant's first before anyone's second) among the tenants they read: a
 * worker's own, or, serving all, the oldest steps' tenants and the next tenant with READY
 * steps in turn. Claims run in transactions that are rolled back, URGENT and older than any
 * other suite's steps, so a claim for all tenants takes none of theirs.
 */
describe('claims between tenants', () => {
  let server: TestServer;
  const busy = `busy-${randomUUID()}`;
  const quiet = `quiet-${randomUUID()}`;
  const prof = profiler();

  /** `count` READY URGENT steps of the tenant, the first `age` seconds old, a second apart. */
  const addReady = (tenantId: string, count: number, age: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(0, $count - 1) AS i
          CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'step ' + toString(i),
                         status: 'READY', orchestrated: true, priority: 'URGENT', attempts: 0,
                         maxAttempts: 3, version: 1,
                         createdAt: datetime() - duration({seconds: $age - i}),
                         updatedAt: datetime()})`,
        params: { tenantId, count, age },
      }),
    );
  /** A claim of `limit` in a transaction rolled back: the tenants of the steps it took. */
  const claim = async (limit: number, tenants: string[] | null, cursor?: QueueCursor) => {
    const { result } = await prof.measure((tx) =>
      claimReadyTasks(tx, 'fairness-test', limit, 30_000, tenants, undefined, undefined, cursor),
    );
    return result.map((c) => c.task.tenantId);
  };

  beforeAll(async () => {
    server = await startTestServer();
    // Older than any step of another suite (the claim-order suite's go back 4e9 seconds).
    await addReady(busy, 60, 6e9);
    await addReady(quiet, 1, 6e9 - 1_000);
  });
  afterAll(async () => {
    await deleteTenant(server.graph, busy);
    await deleteTenant(server.graph, quiet);
    await server?.stop();
    await prof.close();
  });

  it('gives a dedicated worker’s tenants a turn each', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await claim(2, [busy, quiet])).sort()).toEqual([busy, quiet].sort());
    }
  });

  it('reaches a quiet tenant behind a busy tenant’s backlog when serving all tenants', async () => {
    // One slot at a time, the way a step's end hands its slot on: round robin over the tenants
    // with READY steps, from the claimer's cursor.
    const cursor: QueueCursor = { after: '' };
    let claims = 0;
    while ((await claim(1, null, cursor))[0] !== quiet) {
      claims += 1;
      // The other suites' tenants with READY steps take turns as well; far fewer than 60.
      expect(claims).toBeLessThan(40);
    }
  });
});
