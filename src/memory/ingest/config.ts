import { z } from 'zod';
import { decimal, wholeNumber } from '../../config/env-number.js';
import { timerMs } from '../../config/timer-ms.js';

/** The memory ingestion queue's settings (issue 11). */
export interface IngestionConfig {
  /** MEMORY_INGESTION=off: no ingestion loop in this process (episodes wait, PENDING). */
  enabled: boolean;
  /** Episodes one process ingests at once. */
  concurrency: number;
  /** Attempts per episode before it is FAILED. */
  maxAttempts: number;
  leaseMs: number;
  pollMs: number;
  /** Cosine similarity from which two entity names are taken for one (embedding resolution). */
  similarity: number;
}

export const DEFAULT_INGESTION: Readonly<IngestionConfig> = Object.freeze({
  enabled: true,
  concurrency: 2,
  maxAttempts: 3,
  leaseMs: 60_000,
  pollMs: 500,
  similarity: 0.85,
});

const positiveInt = (fallback: number, min = 1) =>
  wholeNumber(min, 1_000_000_000).default(fallback);

/** Spread into src/config/config.ts's env schema. */
export const ingestionEnvSchema = z.object({
  MEMORY_INGESTION: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  MEMORY_INGESTION_CONCURRENCY: positiveInt(DEFAULT_INGESTION.concurrency),
  MEMORY_INGESTION_MAX_ATTEMPTS: positiveInt(DEFAULT_INGESTION.maxAttempts),
  MEMORY_INGESTION_LEASE_MS: timerMs(1000, 1_000_000_000).default(DEFAULT_INGESTION.leaseMs),
  MEMORY_ENTITY_SIMILARITY: decimal(0, 1).default(DEFAULT_INGESTION.similarity),
});

export function ingestionFromEnv(parsed: z.infer<typeof ingestionEnvSchema>): IngestionConfig {
  return {
    enabled: parsed.MEMORY_INGESTION === 'on',
    concurrency: parsed.MEMORY_INGESTION_CONCURRENCY,
    maxAttempts: parsed.MEMORY_INGESTION_MAX_ATTEMPTS,
    leaseMs: parsed.MEMORY_INGESTION_LEASE_MS,
    pollMs: DEFAULT_INGESTION.pollMs,
    similarity: parsed.MEMORY_ENTITY_SIMILARITY,
  };
}
