import type { Tx } from '../../graph/cypher.js';
import type { Graph } from '../../graph/graph.js';

/**
 * Runs `first` in a transaction left open, then `second` in another: which committed first,
 * the second or the first (released once the second has committed, or after 5 s at most).
 * ['second', 'first'] means the second did not wait for a lock the first held.
 */
export async function commitOrder(
  graph: Graph,
  first: (tx: Tx) => Promise<unknown>,
  second: (tx: Tx) => Promise<unknown>,
): Promise<string[]> {
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let ran!: () => void;
  const firstRan = new Promise<void>((r) => (ran = r));
  const one = graph.write(async (tx) => {
    await first(tx);
    ran();
    await held; // its transaction stays open
  });
  await firstRan;
  const two = graph.write(second).then(() => order.push('second'));
  await Promise.race([two, new Promise((r) => setTimeout(r, 5_000))]);
  order.push('first');
  release();
  await Promise.all([one, two]);
  return order;
}
