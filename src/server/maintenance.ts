import { startCheckpointPruning } from '../agents/checkpoint/retention.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services/index.js';

/** How often the API deletes audit events past their retention. */
const AUDIT_SWEEP_MS = 60 * 60_000;

/** How often every API process applies the tenants' episode retention rules. */
const RETENTION_SWEEP_MS = 60 * 60_000;

export interface MaintenanceOptions {
  /** Audit events older than this are deleted (none when unset, as in test servers). */
  auditRetentionDays?: number;
  /** Agent-loop checkpoints past this age are pruned (none when unset). */
  checkpointRetentionHours?: number;
  /** Apply the tenants' episode retention rules (test servers turn it off). */
  episodeRetention: boolean;
}

/**
 * The API's periodic upkeep, at start and then hourly: audit retention, checkpoint pruning,
 * episode retention. A failed sweep is logged and tried again next time. Returns the stop.
 */
export function startMaintenance(
  services: Services,
  logger: Logger,
  o: MaintenanceOptions,
): () => void {
  const days = o.auditRetentionDays;
  const stops = [
    days
      ? every(AUDIT_SWEEP_MS, () =>
          services.audit
            .sweep(days)
            .then((n) => n > 0 && logger.info(`Deleted ${n} audit events older than ${days} days`))
            .catch((err: unknown) => logger.warn({ err }, 'audit retention sweep failed')),
        )
      : () => {},
    o.checkpointRetentionHours
      ? startCheckpointPruning(services.uow, logger, o.checkpointRetentionHours)
      : () => {},
    o.episodeRetention
      ? every(RETENTION_SWEEP_MS, () =>
          services.memory
            .sweepRetention(logger)
            .then((n) => n > 0 && logger.info(`Forgot ${n} episodes under retention rules`))
            .catch((err: unknown) => logger.warn({ err }, 'episode retention sweep failed')),
        )
      : () => {},
  ];
  return () => stops.forEach((stop) => stop());
}

/** Runs `work` now and then every `ms` (never keeping the process alive); returns the stop. */
function every(ms: number, work: () => Promise<unknown>): () => void {
  const timer = setInterval(() => void work(), ms);
  timer.unref();
  void work();
  return () => clearInterval(timer);
}
