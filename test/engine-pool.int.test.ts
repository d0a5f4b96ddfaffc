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
 * pool of its own (openEnginePool), and a request never waits behind its transactions.
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
});
