import type { Graph } from '../../graph/graph.js';
import { eventually } from './engine-steps.js';

/**
 * Resolves once a transaction whose parameters hold `name: value` (or whose statement contains
 * `query`) waits for a lock (Neo4j's SHOW TRANSACTIONS), or `count` of them do: the race suites
 * hold one writer's transaction open until the others wait for it, then commit, so the
 * interleaving they test happens every time.
 */
export async function untilBlocked(
  graph: Graph,
  what: string,
  waiting: { name: string; value: string | number } | { query: string },
  count = 1,
): Promise<void> {
  const { name = null, value = null, query = null } = waiting as Record<string, unknown>;
  await eventually(what, async () => {
    const rows = await graph.read((tx) =>
      tx.run<{ status: string }>({
        cypher: `SHOW TRANSACTIONS YIELD parameters, currentQuery, status
                 WHERE ($name IS NOT NULL AND parameters[$name] = $value)
                    OR ($query IS NOT NULL AND currentQuery CONTAINS $query)
                 RETURN status`,
        params: { name, value, query },
      }),
    );
    return rows.filter((r) => r.status.startsWith('Blocked')).length >= count;
  });
}
