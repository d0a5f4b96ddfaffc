import type { Graph } from '../../graph/graph.js';

/** Polls until `condition` holds; fails naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Holds a write lock on one agent in a transaction of its own connection until `unlock()`:
 * requests that update that agent wait in Neo4j, holding their tenant's slots meanwhile.
 */
export async function lockAgent(graph: Graph, tenantId: string, id: string) {
  let unlock!: () => void;
  const unlocked = new Promise<void>((r) => (unlock = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const held = graph.write(async (tx) => {
    await tx.run({
      cypher: 'MATCH (a:Agent {id: $id, tenantId: $tenantId}) SET a.heldByTest = true',
      params: { id, tenantId },
    });
    locked();
    await unlocked;
  });
  await isLocked;
  return async () => {
    unlock();
    await held;
  };
}
