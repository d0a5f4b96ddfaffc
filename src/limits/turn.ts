import type { IncomingMessage } from 'node:http';
import type { Graph } from '../../graph/graph.js';
import { requestTimeoutError } from './errors.js';
import { withTimeout } from './timeout.js';

/**
 * Waits for one of the tenant's turns (src/server/request-budgets.ts `hold`, given up if the
 * client goes away); resolves with its release.
 */
export type Turn = (req: IncomingMessage, tenantId: string) => Promise<() => void>;

/**
 * Runs `work` of a route other than /graphql (/mcp, /a2a, /documents) as a GraphQL operation
 * runs: in one of its tenant's turns, given back when the work ends (even past a timeout's
 * answer), and held to the request timeout, which also ends its Neo4j work.
 */
export function inTurn<T>(
  opts: { graph: Graph; requestTimeoutMs: number; turn: Turn },
  req: IncomingMessage,
  tenantId: string,
  work: () => Promise<T>,
): Promise<T> {
  const ms = opts.requestTimeoutMs;
  const held = opts.graph.withDeadline(ms, async () => {
    const release = await opts.turn(req, tenantId);
    try {
      return await work();
    } finally {
      release();
    }
  });
  return withTimeout(held, ms, () => requestTimeoutError(ms));
}
