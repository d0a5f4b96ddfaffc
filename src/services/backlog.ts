import type { Tx } from '../../graph/cypher.js';
import { pendingEpisodes, queuedSteps } from '../../graph/backlog.repository.js';
import {
  checkBacklog,
  DEFAULT_BACKLOG_LIMITS,
  type Backlog,
  type BacklogLimits,
} from '../domain/backlog.js';

type Refusal = [
  tx: Tx,
  tenantId: string,
  limits: BacklogLimits | undefined,
  operation: string,
  adding: number,
];

/** How each backlog is counted, and which limit caps it. */
const BACKLOGS: Record<Backlog, { count: typeof queuedSteps; cap: keyof BacklogLimits }> = {
  steps: { count: queuedSteps, cap: 'maxQueuedSteps' },
  episodes: { count: pendingEpisodes, cap: 'maxPendingEpisodes' },
};

/**
 * Refuses (LIMIT_EXCEEDED, the caller's transaction rolled back) `operation` when its `adding`
 * would take the tenant's `backlog` past its cap. Counted in the caller's write transaction,
 * before its write: two writes at once may both pass, so a tenant may end over the cap by what
 * such concurrent writes add (at most a batch or a plan each).
 */
async function refuseOver(backlog: Backlog, ...[tx, tenantId, limits, operation, adding]: Refusal) {
  if (adding <= 0) return;
  const { count, cap: limit } = BACKLOGS[backlog];
  const cap = (limits ?? DEFAULT_BACKLOG_LIMITS)[limit];
  checkBacklog(backlog, { operation, count: await count(tx, tenantId, cap + 1), adding, cap });
}

/** refuseOver for queued steps (TENANT_MAX_QUEUED_STEPS). */
export const refuseOverQueuedSteps = (...args: Refusal) => refuseOver('steps', ...args);

/**
 * refuseOver for episodes people feed memory (documents, messages, chat turns) or take back
 * (retryEpisodes) and TENANT_MAX_PENDING_EPISODES. A step's result is never refused: it is
 * written with the step's end (graph/run.repository.ts), and queues whatever the count.
 */
export const refuseOverPendingEpisodes = (...args: Refusal) => refuseOver('episodes', ...args);
