import type { Graph } from '../../graph/graph.js';
import { eventually } from './engine-steps.js';

/**
 * Resolves once a transaction whose parameters hold `name: value` waits for a lock (Neo4j's
 * SHOW TRANSACTIONS): the race suites hold one writer's transaction open until the other
 * waits for it, then commit, so the interleaving they test happens every time.
 */
export async function untilBlocked(
  graph: Graph,
  what: string,
  parameter: { name: string; value: string | number },
): Promise<void> {
  await eventually(what, async () => {
    const rows = await graph.read((tx) =>
      tx.run<{ status: string }>({
        cypher: `SHOW TRANSACTIONS YIELD parameters, status
                 WHERE parameters[$name] = $value RETURN status`,
        params: parameter,
      }),
    );
    return rows.some((r) => r.status.startsWith('Blocked'));
  });
}
