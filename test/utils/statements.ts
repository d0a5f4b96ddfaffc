import type { Tx } from '../../graph/cypher.js';
import type { Graph } from '../../graph/graph.js';
import { statementName } from '../../graph/statement-name.js';

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

/** The names of the statements (graph/statement-name.ts) each transaction sent during `work`. */
export async function statementsByTransaction(
  server: { graph: Graph },
  work: () => Promise<void>,
): Promise<string[][]> {
  const byTx = new Map<Tx, string[]>();
  server.graph.onStatement = (q, tx) =>
    byTx.set(tx, [...(byTx.get(tx) ?? []), statementName(q.cypher)]);
  try {
    await work();
  } finally {
    server.graph.onStatement = undefined;
  }
  return [...byTx.values()];
}
