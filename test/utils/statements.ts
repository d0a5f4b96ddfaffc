import type { Graph } from '../../graph/graph.js';

/**
 * The Cypher statements `request` makes the server send: the fewer of two runs, because
 * authentication adds one now and then (a key lookup when its 5 s cache ends, `lastUsedAt`
 * once a minute), and not to two requests in a row.
 */
export async function statementsFor(
  server: { graph: Graph },
  request: () => Promise<unknown>,
): Promise<number> {
  const once = async () => {
    const before = server.graph.statementCount;
    await request();
    return server.graph.statementCount - before;
  };
  return Math.min(await once(), await once());
}
