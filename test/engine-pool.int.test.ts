import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { openEnginePool } from '../src/engine/start.js';
import { UnitOfWork } from '../src/services/unit-of-work.js';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';

/** Connections of each pool here: few, so that the engine's work can hold all of them. */
const POOL = 2;

/**
 * With the engine in the API's process (`npm start`), its steps and the API's requests took
 * connections from one pool, first come first served: 100 runs under way held them all, and
 * a simple query waited its turn (bench:agents, in-process: p99 248 ms). The engine now has a
 * pool of its own (openEnginePool), and a request never waits behind its transactions; the
 * pool is half the API's, so a request's statement shares Neo4j's cores with fewer of them.
 */
describe('the engine’s connection pool in the API’s process', () => {
  let graph: Graph;
  let engine: Awaited<ReturnType<typeof openEnginePool>>;
  let api: UnitOfWork;

  beforeAll(async () => {
    const settings = { ...inject('neo4j'), maxConnections: POOL };
    graph = await connectGraph(settings, { log: () => {}, attempts: 3 });
    api = new UnitOfWork(graph, createInProcessPubSub());
    engine = await openEnginePool(settings, api, () => {});
  });

  afterAll(async () => {
    await engine?.close();
    await graph?.close();
  });

  it('answers a request while the engine’s statements hold all of its connections', async () => {
    const order: string[] = [];
    // Statements that each hold a connection for a while (a few hundred ms).
    const slow = Array.from({ length: POOL }, () =>
      engine.uow
        .read((tx) =>
          tx.run({
            cypher: 'UNWIND range(1, 4000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*)',
          }),
        )
        .then(() => order.push('engine')),
    );
    // Sent once the engine's statements are under way: in one pool it waits for a connection.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answered = api.read((tx) => tx.run<{ one: number }>({ cypher: 'RETURN 1 AS one' }));
    await answered.then(() => order.push('request'));
    await Promise.all(slow);
    expect(order).toEqual(['request', ...Array<string>(POOL).fill('engine')]);
    expect(await answered).toEqual([{ one: 1 }]);
  });

  it('runs at most half the API’s connections of transactions in Neo4j', async () => {
    // Neo4j shares its cores among what it is sent: an engine with as many transactions as the
    // API's pool kept a request's statement queued behind its own (bench:agents in-process).
    const settings = { ...inject('neo4j'), maxConnections: 8 };
    const wide = await openEnginePool(settings, api, () => {});
    try {
      const marker = `engine-pool-${Date.now()}`;
      let done = false;
      const slow = Promise.all(
        Array.from({ length: 8 }, () =>
          wide.uow.read((tx) =>
            tx.run({
              cypher: `UNWIND range(1, 3000000) AS x WITH x WHERE x % 7 = 0
                RETURN count(*) AS n, $marker AS m`,
              params: { marker },
            }),
          ),
        ),
      ).finally(() => (done = true));
      let most = 0;
      while (!done) {
        const [row] = await api.read((tx) =>
          tx.run<{ running: number }>({
            cypher: `SHOW TRANSACTIONS YIELD currentQuery, parameters
              WHERE parameters.marker = $marker AND NOT currentQuery CONTAINS 'SHOW TRANSACTIONS'
              RETURN count(*) AS running`,
            params: { marker },
          }),
        );
        most = Math.max(most, row!.running);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await slow).length).toBe(8);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(4);
    } finally {
      await wide.close();
    }
  });
});
