import neo4j, { type Driver } from 'neo4j-driver';
import { inject } from 'vitest';
import { Graph } from '../../graph/graph.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens `size` pooled connections of `driver` before a test that holds them, through the
 * driver alone. On a loaded machine a new connection took longer than a test's short
 * acquisition timeout; an acquisition that times out with no connection yet in the pool means
 * an unreachable Neo4j, so the Graph's breaker opened and the test measured an outage, not a
 * busy pool (round 27 of 2026-12-01). A connection whose acquisition timed out still joins
 * the pool when it opens, so trying again gets there.
 */
async function openEveryConnection(driver: Driver, database: string, size: number): Promise<void> {
  const hold = async () => {
    const session = driver.session({ database });
    try {
      await session.executeRead((tx) => tx.run('RETURN 1').then(() => sleep(50)));
    } finally {
      await session.close();
    }
  };
  for (let attempt = 1; ; attempt++) {
    const opened = await Promise.all(Array.from({ length: size }, hold)).then(
      () => true,
      (err: unknown) => {
        if (attempt >= 50) throw err;
        return false;
      },
    );
    if (opened) return;
    await sleep(200);
  }
}

/**
 * A Graph over a pool of `size` connections with a short acquisition timeout, on the test
 * run's Neo4j, its connections already open (openEveryConnection): a stand-in for a full pool.
 */
export async function smallPoolGraph(size: number, acquisitionMs: number): Promise<Graph> {
  const s = inject('neo4j');
  const driver = neo4j.driver(s.uri, neo4j.auth.basic(s.user, s.password), {
    disableLosslessIntegers: true,
    maxConnectionPoolSize: size,
    connectionAcquisitionTimeout: acquisitionMs,
    logging: { level: 'error', logger: () => {} },
  });
  await openEveryConnection(driver, s.database, size);
  return new Graph(driver, s.database, { acquisitionMs, maxConnections: size });
}
