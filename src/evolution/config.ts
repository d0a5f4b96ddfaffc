import { z } from 'zod';

/** The learning loop's settings (issue 12); each part's own knobs sit beside it in this file. */
export interface EvolutionConfig {
  /** EVOLUTION=off: no learning loop in this process (evaluations are still written). */
  enabled: boolean;
  /** How often the loop's passes run, in ms. */
  intervalMs: number;
}

export const DEFAULT_EVOLUTION: Readonly<EvolutionConfig> = Object.freeze({
  enabled: true,
  intervalMs: 5_000,
});

/** Spread into src/config.ts's env schema. */
export const evolutionEnvSchema = z.object({
  EVOLUTION: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  EVOLUTION_INTERVAL_MS: z.coerce
    .number({ error: 'must be a whole number of at least 100' })
    .int('must be a whole number of at least 100')
    .min(100, 'must be a whole number of at least 100')
    .max(86_400_000, 'must be at most 86400000')
    .default(DEFAULT_EVOLUTION.intervalMs),
});

export function evolutionFromEnv(parsed: z.infer<typeof evolutionEnvSchema>): EvolutionConfig {
  return { enabled: parsed.EVOLUTION === 'on', intervalMs: parsed.EVOLUTION_INTERVAL_MS };
}
