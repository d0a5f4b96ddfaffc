import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Graph } from '../../graph/graph.js';
import { requestTimeoutError } from './errors.js';
import { withTimeout } from './timeout.js';

/**
 * Waits for one of the tenant's turns (src/server/request-budgets.ts `hold`); resolves with its
 * release. With the request, the wait is given up if its client goes away; with null (work of
 * the call's own: the A2A task store, an audit event) it waits whether or not the client stays.
 */
export type Turn = (req: IncomingMessage | null, tenantId: string) => Promise<() => void>;

/** Work of a tenant's call in one of its turns (inTurn with the call's options bound). */
export type InTurn = <T>(work: () => Promise<T>) => Promise<T>;

/** The turn the running work holds: open until it is given back. */
const holding = new AsyncLocalStorage<{ tenantId: string; open: boolean }>();

/**
 * Runs `work` of a route other than /graphql (/mcp, /a2a, /documents) as a GraphQL operation
 * runs: in one of its tenant's turns, given back when the work ends (even past a timeout's
 * answer), and held to the request timeout, which also ends its Neo4j work. Work that already
 * runs in a turn of the tenant runs in that one: waiting for a second could wait for good, for
 * the first is given back only when the work ends. Work it left running after the turn was
 * given back (a stream's next save) takes a turn of its own.
 */
export function inTurn<T>(
  opts: { graph: Graph; requestTimeoutMs: number; turn: Turn },
  req: IncomingMessage | null,
  tenantId: string,
  work: () => Promise<T>,
): Promise<T> {
  const held = holding.getStore();
  if (held?.open && held.tenantId === tenantId) return work();
  const ms = opts.requestTimeoutMs;
  const running = opts.graph.withDeadline(ms, async () => {
    const release = await opts.turn(req, tenantId);
    const turn = { tenantId, open: true };
    try {
      return await holding.run(turn, work);
    } finally {
      turn.open = false;
      release();
    }
  });
  return withTimeout(running, ms, () => requestTimeoutError(ms));
}
