import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesByAgentIds } from '../graph/capability.repository.js';
import { DeadlineError } from '../graph/deadline.js';
import type { Graph } from '../graph/graph.js';
import { createLoaders } from '../src/loaders/loaders.js';
import { adminView } from '../src/memory/view.js';
import { neo4jThroughProxy, type TcpProxy } from './utils/tcp-proxy.js';

/**
 * Issue 15: a loader batch ran in a transaction of its own, a begin and a commit around its one
 * statement, so every field level of a request waited for two round trips to Neo4j. Counted
 * as exchanges through a loopback proxy (work done, not time).
 */
describe('round trips to Neo4j', () => {
  let proxy: TcpProxy;
  let graph: Graph;
  const tenantId = 'round-trips-none';

  beforeAll(async () => {
    ({ proxy, graph } = await neo4jThroughProxy());
    // Pooled connection ready: its handshake is not counted below.
    await graph.read((tx) => tx.run({ cypher: 'RETURN 1' }));
  });
  afterAll(async () => {
    await graph?.close();
    await proxy?.close();
  });

  const exchangesOf = async (work: () => Promise<unknown>) => {
    const before = proxy.exchanges;
    await work();
    return proxy.exchanges - before;
  };

  it('a read in a transaction takes more than one; an auto-commit read one per statement', async () => {
    const one = { cypher: 'RETURN 1 AS n' };
    expect(await exchangesOf(() => graph.read((tx) => tx.run(one)))).toBeGreaterThan(1);
    expect(await exchangesOf(() => graph.readAutoCommit((tx) => tx.run(one)))).toBe(1);
    const rows = await graph.readAutoCommit(async (tx) => {
      const [a, b] = await Promise.all([tx.run<{ n: number }>(one), tx.run<{ n: number }>(one)]);
      return [...a, ...b];
    });
    expect(rows.map((r) => Number(r.n))).toEqual([1, 1]);
  });

  it('a loader batch takes one', async () => {
    const loaders = createLoaders(graph, tenantId, adminView());
    const spent = await exchangesOf(() =>
      Promise.all(['a', 'b', 'c'].map((id) => loaders.capabilities().load(id))),
    );
    expect(spent).toBe(1);
    // The same rows as through a transaction.
    expect(await loaders.capabilities().load('a')).toEqual(
      (await graph.read((tx) => capabilitiesByAgentIds(tx, tenantId, ['a']))).filter(
        (c) => c.agentId === 'a',
      ),
    );
  });

  it('keeps to the request’s deadline', async () => {
    await expect(
      graph.withDeadline(1, async () => {
        await new Promise((r) => setTimeout(r, 5));
        return graph.readAutoCommit((tx) => tx.run({ cypher: 'RETURN 1' }));
      }),
    ).rejects.toBeInstanceOf(DeadlineError);
  });
});
