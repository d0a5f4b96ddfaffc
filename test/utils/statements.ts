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

/** The statements of each write transaction, and which task each endRun/startRuns was for. */
export function recordTransactions(server: { graph: Graph }) {
  type Started = { taskId: string; workerId: string };
  const txs = new Map<
    Tx,
    { names: string[]; ended: string[]; started: string[]; owners: Started[] }
  >();
  server.graph.onStatement = (q, tx) => {
    const entry = txs.get(tx) ?? { names: [], ended: [], started: [], owners: [] };
    const name = statementName(q.cypher);
    entry.names.push(name);
    const params = q.params as Record<string, unknown> | undefined;
    if (name === 'run.repository.endRunBatch') {
      const runs = (params?.runs ?? []) as { taskId: string }[];
      entry.ended.push(...runs.map((r) => r.taskId));
    }
    if (name === 'run.repository.startRuns') {
      const runs = (params?.runs ?? []) as Started[];
      entry.started.push(...runs.map((r) => r.taskId));
      entry.owners.push(...runs.map(({ taskId, workerId }) => ({ taskId, workerId })));
    }
    txs.set(tx, entry);
  };
  return txs;
}
