import { z } from 'zod';
import { tracesWanted } from './setup.js';

/**
 * The OTLP variables the platform checks at start (the SDK reads them itself): a mistyped one
 * made the SDK fall back to its default, http://localhost:4318, while start-up named the typo.
 */
const otlpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^/]/i.test(v) && URL.canParse(v), {
    error: 'must be an http:// or https:// URL (e.g. http://localhost:4318)',
  })
  .optional();

const otlpProtocol = z
  .enum(['http/protobuf', 'http/json', 'grpc'], {
    error: 'must be http/protobuf, http/json or grpc',
  })
  .optional();

export const tracingEnvSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
});

/**
 * The environment to check: without the OTLP variables when tracing is off (OTEL_SDK_DISABLED,
 * OTEL_TRACES_EXPORTER=none, no endpoint), as nothing reads them then.
 */
export function tracingEnvToCheck<E extends Record<string, string | undefined>>(env: E): E {
  if (tracesWanted(env)) return env;
  const names = new Set(Object.keys(tracingEnvSchema.shape));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.has(name))) as E;
}
