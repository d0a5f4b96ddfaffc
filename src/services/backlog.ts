import type { Tx } from '../../graph/cypher.js';
import { pendingEpisodes, queuedSteps } from '../../graph/backlog.repository.js';
import { checkBacklog, DEFAULT_BACKLOG_LIMITS, type BacklogLimits } from '../domain/backlog.js';

/**
 * Refuses (LIMIT_EXCEEDED, the caller's transaction rolled back) `operation` when its `adding`
 * steps would take the tenant's queued steps past TENANT_MAX_QUEUED_STEPS. Counted in the
 * caller's write transaction, before its write: two writes at once may both pass, so a tenant
 * may end over the cap by what such concurrent writes add (at most a batch or a plan each).
 */
export async function refuseOverQueuedSteps(
  tx: Tx,
  tenantId: string,
  limits: BacklogLimits = DEFAULT_BACKLOG_LIMITS,
  operation: string,
  adding: number,
): Promise<void> {
  if (adding <= 0) return;
  const cap = limits.maxQueuedSteps;
  const count = await queuedSteps(tx, tenantId, cap + 1);
  checkBacklog('steps', { operation, count, adding, cap });
}

/**
 * refuseOverQueuedSteps for episodes people feed memory (documents, messages, chat turns) and
 * TENANT_MAX_PENDING_EPISODES. A step's result is never refused: it is written with the step's
 * end (graph/run.repository.ts), and queues whatever the count.
 */
export async function refuseOverPendingEpisodes(
  tx: Tx,
  tenantId: string,
  limits: BacklogLimits = DEFAULT_BACKLOG_LIMITS,
  operation: string,
  adding: number,
): Promise<void> {
  if (adding <= 0) return;
  const cap = limits.maxPendingEpisodes;
  const count = await pendingEpisodes(tx, tenantId, cap + 1);
  checkBacklog('episodes', { operation, count, adding, cap });
}
