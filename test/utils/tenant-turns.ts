import { expect } from 'vitest';
import type { Graph } from '../../graph/graph.js';
import type { TestServer } from './server.js';

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

/**
 * Runs `check` while the tenant's one turn (TENANT_MAX_CONCURRENT_REQUESTS=1) is held by a
 * rename of `agentId` waiting on a lock, then gives the turn back and sees the rename end.
 */
export async function whileTurnHeld<T>(
  server: TestServer,
  locker: Graph,
  agentId: string,
  check: () => Promise<T>,
): Promise<T> {
  await until(() => idle(server), 'the tenant’s turns to be free');
  const unlock = await lockAgent(locker, server.tenantId, agentId);
  const held = server.gql(
    `mutation { updateAgent(id: "${agentId}", input: { name: "Renamed" }) { name } }`,
  );
  try {
    await until(() => server.tenantSlots.inFlight(server.tenantId) === 1, 'the held request');
    return await check();
  } finally {
    await unlock();
    expect((await held).errors).toBeUndefined();
  }
}

/** Nothing of the server's tenant runs or waits for a turn. */
export const idle = (server: TestServer) =>
  server.tenantSlots.inFlight(server.tenantId) === 0 &&
  server.tenantSlots.waiting(server.tenantId) === 0;
