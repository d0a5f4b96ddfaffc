import { z } from 'zod';
import { plainNumber, wholeNumber } from '../../config/env-number.js';

/** How many agent-loop checkpoints are kept (issue 13; LangGraph's grow without bound, langgraphjs#1138). */
export interface CheckpointRetention {
  /** A thread keeps its newest this many checkpoints per namespace; `put` deletes older ones. */
  keepPerThread: number;
  /** Checkpoints of finished tasks older than this many hours are pruned (pruneCheckpoints). */
  retentionHours: number;
}

export const DEFAULT_CHECKPOINT_RETENTION: CheckpointRetention = {
  keepPerThread: 20,
  retentionHours: 168,
};

export const checkpointEnvSchema = z.object({
  CHECKPOINT_KEEP_PER_THREAD: wholeNumber(
    1,
    undefined,
    'must be a whole number of checkpoints, at least 1 (a resumed step needs its last checkpoint)',
  ).default(DEFAULT_CHECKPOINT_RETENTION.keepPerThread),
  CHECKPOINT_RETENTION_HOURS: plainNumber(
    'must be a number of hours',
    z.number().positive('must be more than 0'),
  ).default(DEFAULT_CHECKPOINT_RETENTION.retentionHours),
});

export function checkpointRetentionFromEnv(
  e: z.infer<typeof checkpointEnvSchema>,
): CheckpointRetention {
  return {
    keepPerThread: e.CHECKPOINT_KEEP_PER_THREAD,
    retentionHours: e.CHECKPOINT_RETENTION_HOURS,
  };
}
