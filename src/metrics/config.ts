import { z } from 'zod';
import { portNumber } from '../config/env-number.js';

/** Where /metrics is served (issue 17). */
export interface MetricsConfig {
  /** METRICS=off serves no /metrics anywhere (the counting itself costs next to nothing). */
  enabled: boolean;
  /** Scrapes must send `Authorization: Bearer <token>`; null: no token asked. */
  token: string | null;
  /**
   * A port of its own for /metrics (the only way a worker serves it); null: the API serves it
   * on its own port, and a worker serves none.
   */
  port: number | null;
  /** The address the metrics port listens on. */
  host: string;
}

export const metricsEnvSchema = z.object({
  METRICS: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PORT: portNumber().optional(),
  METRICS_HOST: z.string().min(1).optional(),
});

export function metricsFromEnv(
  e: z.infer<typeof metricsEnvSchema> & { HOST: string },
): MetricsConfig {
  return {
    enabled: e.METRICS === 'on',
    token: e.METRICS_TOKEN ?? null,
    port: e.METRICS_PORT ?? null,
    host: e.METRICS_HOST ?? e.HOST,
  };
}
