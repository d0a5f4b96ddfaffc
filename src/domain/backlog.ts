import { LimitExceededError } from './errors.js';
import { TaskStatus } from './task.js';

/**
 * How much work one tenant may have waiting (one tenant can never slow or stop another): its
 * claims and ingestion take turns with other tenants, but without a bound its backlog (Neo4j's
 * size, the sweeps' and indexes' work, the queue's reads) grew with whatever it sent.
 */
export interface BacklogLimits {
  /** Orchestrated steps PENDING or READY (submitted, planned, started); TENANT_MAX_QUEUED_STEPS. */
  maxQueuedSteps: number;
  /** Episodes PENDING or INGESTING; TENANT_MAX_PENDING_EPISODES. */
  maxPendingEpisodes: number;
}

/** The statuses of a queued step (with `orchestrated`: a step the engine runs). */
export const QUEUED_STATUSES: readonly string[] = [TaskStatus.PENDING, TaskStatus.READY];

export const DEFAULT_BACKLOG_LIMITS: Readonly<BacklogLimits> = Object.freeze({
  // Far past the benchmarks (a 1,000-step DAG, 200 submitted tasks) and a busy organisation.
  maxQueuedSteps: 10_000,
  // Twenty documents of DOCUMENT_MAX_CHUNKS chunks each, waiting at once.
  maxPendingEpisodes: 20_000,
});

const BACKLOGS = {
  steps: {
    variable: 'TENANT_MAX_QUEUED_STEPS',
    what: 'steps',
    waiting: 'queued (PENDING or READY in workflows the engine runs)',
    fix: 'let them run, cancel some (cancelTask)',
  },
  episodes: {
    variable: 'TENANT_MAX_PENDING_EPISODES',
    what: 'episodes',
    waiting: 'waiting for memory ingestion (PENDING or INGESTING)',
    fix: 'let ingestion catch up (episodes(filter: { status: PENDING }))',
  },
} as const;

export type Backlog = keyof typeof BACKLOGS;

/**
 * Throws LIMIT_EXCEEDED when `adding` more would take the tenant's `count` past `cap`. `count`
 * is read up to cap + 1 (graph/backlog.repository.ts), so a larger one reads "more than cap".
 */
export function checkBacklog(
  backlog: Backlog,
  o: { operation: string; count: number; adding: number; cap: number },
): void {
  if (o.adding <= 0 || o.count + o.adding <= o.cap) return;
  const b = BACKLOGS[backlog];
  const has = o.count > o.cap ? `more than ${o.cap}` : String(o.count);
  throw new LimitExceededError(
    b.variable,
    `${o.operation} would add ${o.adding} ${b.what} to the ${has} of this organisation ${b.waiting}, but ${b.variable} allows ${o.cap}: ${b.fix}, or raise ${b.variable}`,
    { count: o.count, adding: o.adding, cap: o.cap },
  );
}
