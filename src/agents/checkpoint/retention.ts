import type { TenantScope } from '../../../graph/engine-scope.js';
import { pruneFinishedCheckpoints } from '../../../graph/checkpoint.repository.js';
import type { Logger } from '../../logger.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';

export interface PruneOptions {
  /** Checkpoints older than this many hours go (CHECKPOINT_RETENTION_HOURS). */
  olderThanHours: number;
  /** Checkpoints deleted per transaction (default 500): bounded work, no giant transaction. */
  batch?: number;
  /** Most batches in one call (default 100), so one call never runs unbounded. */
  maxBatches?: number;
  /** Only these tenants' checkpoints; null or unset: all (a system sweep). */
  tenantIds?: TenantScope;
}

/**
 * The age rule of checkpoint retention: deletes the checkpoints (and pending writes) of threads
 * whose task has finished (COMPLETED, FAILED, CANCELLED or SKIPPED) and that are older than
 * `olderThanHours`, one batch per transaction. A checkpoint a fork starts from (FORKED_FROM)
 * is never deleted. The per-thread rule (CHECKPOINT_KEEP_PER_THREAD) is applied by the
 * saver's own `put`. Returns how many checkpoints were deleted.
 */
export async function pruneCheckpoints(uow: UnitOfWork, o: PruneOptions): Promise<number> {
  const batch = o.batch ?? 500;
  const maxBatches = o.maxBatches ?? 100;
  let total = 0;
  for (let n = 0; n < maxBatches; n++) {
    const deleted = await uow.write((tx) =>
      pruneFinishedCheckpoints(tx, {
        olderThanHours: o.olderThanHours,
        batch,
        tenants: o.tenantIds ?? null,
      }),
    );
    total += deleted;
    if (deleted < batch) break;
  }
  return total;
}

/** How often an API process applies the age rule. */
const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * Applies the age rule at start and then hourly (never keeping the process alive); returns the
 * stop. A failed pass is logged and tried again next time.
 */
export function startCheckpointPruning(
  uow: UnitOfWork,
  logger: Pick<Logger, 'info' | 'warn'>,
  olderThanHours: number,
): () => void {
  const pass = () =>
    pruneCheckpoints(uow, { olderThanHours })
      .then((n) => {
        if (n > 0) logger.info(`Pruned ${n} agent-loop checkpoints older than ${olderThanHours} h`);
      })
      .catch((err: unknown) => logger.warn({ err }, 'checkpoint retention sweep failed'));
  const timer = setInterval(() => void pass(), PRUNE_EVERY_MS);
  timer.unref();
  void pass();
  return () => clearInterval(timer);
}
