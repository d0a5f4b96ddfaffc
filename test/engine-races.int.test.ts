import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { claimReadyTasks } from '../graph/claim.repository.js';
import { sweepNow } from './utils/engine.js';
import {
  createOperators,
  createPlan,
  eventually,
  inTenant,
  latch,
  startWorkflow,
} from './utils/engine-steps.js';
import type { TestServer } from './utils/server.js';

/** Settling a parent against claiming its steps (issue 10). */

const rows = <T extends Record<string, unknown>>(
  server: TestServer,
  cypher: string,
  params: Record<string, unknown> = {},
) =>
  server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );

const statuses = async (server: TestServer, ids: Record<string, string>) => {
  const found = await rows<{ id: string; s: string }>(
    server,
    'MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $ids RETURN t.id AS id, t.status AS s',
    { ids: Object.values(ids) },
  );
  const byId = new Map(found.map((r) => [r.id, r.s]));
  return Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, byId.get(id)]));
};

/** A running parent (FAIL_FAST) with two READY steps, `x` and `y`. */
async function runningPlan(server: TestServer) {
  await createOperators(server, { Doer: [] });
  const ids = await createPlan(server, [
    { key: 'root', title: 'Parent' },
    { key: 'x', title: 'X', parentKey: 'root' },
    { key: 'y', title: 'Y', parentKey: 'root' },
  ]);
  await startWorkflow(server, ids.root!);
  await sweepNow(server);
  expect(await statuses(server, ids)).toEqual({ root: 'IN_PROGRESS', x: 'READY', y: 'READY' });
  return ids;
}

const setStatus = (server: TestServer, id: string, status: string) =>
  server.graph.write((tx) =>
    tx.run({
      cypher: 'MATCH (t:Task {tenantId: $tenantId, id: $id}) SET t.status = $status',
      params: { tenantId: server.tenantId, id, status },
    }),
  );

describe('settling against claiming', () => {
  it('never claims a step whose parent has ended', async () => {
    await inTenant(async (server) => {
      const ids = await runningPlan(server);
      await setStatus(server, ids.root!, 'FAILED');
      const claimed = await server.graph.write((tx) =>
        claimReadyTasks(tx, 'test-claimer', 10, 60_000, [server.tenantId]),
      );
      expect(claimed).toEqual([]);
      expect(await statuses(server, ids)).toMatchObject({ x: 'READY', y: 'READY' });
    });
  });

  it('cancels a step claimed while its parent fails fast, with its run, instead of leaving it running under a FAILED parent', async () => {
    await inTenant(async (server) => {
      const ids = await runningPlan(server);
      await setStatus(server, ids.x!, 'FAILED');
      const runId = randomUUID();
      const claimedIt = latch();
      const commit = latch();
      // A worker claims y and starts its run, and has not committed yet...
      const claim = server.graph.write(async (tx) => {
        const claimed = await claimReadyTasks(tx, 'test-claimer', 10, 60_000, [server.tenantId]);
        expect(claimed.map((c) => c.task.id)).toEqual([ids.y]);
        await tx.run({
          cypher: `MATCH (t:Task {id: $id})
                   CREATE (:Run {id: $runId, tenantId: t.tenantId, status: 'RUNNING', attempt: 1,
                                 startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})-[:OF]->(t)`,
          params: { id: ids.y, runId },
        });
        claimedIt.open();
        await commit.opened;
      });
      await claimedIt.opened;
      // ...while a sweep settles the parent: it reaches y's lock and waits there.
      const sweep = sweepNow(server);
      await eventually('the settling transaction to wait for the claim’s lock', async () => {
        const waiting = await server.graph.read((tx) =>
          tx.run<{ parameters: unknown }>({
            cypher: `SHOW TRANSACTIONS YIELD status, parameters
                     WHERE status STARTS WITH 'Blocked' RETURN parameters`,
            params: {},
          }),
        );
        return waiting.some((w) => {
          const p = JSON.stringify(w.parameters);
          return p.includes(ids.root!) || p.includes(ids.y!);
        });
      });
      commit.open();
      await claim;
      await sweep;
      expect(await statuses(server, ids)).toEqual({
        root: 'FAILED',
        x: 'FAILED',
        y: 'CANCELLED',
      });
      const [run] = await rows<{ s: string }>(
        server,
        'MATCH (r:Run {id: $runId}) RETURN r.status AS s',
        {
          runId,
        },
      );
      expect(run!.s).toBe('CANCELLED');
    });
  });
});
