/**
 * Starts the OpenTelemetry SDK when traces are asked for with the standard variables
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_SAMPLER, ...). Without them nothing is loaded: the
 * spans of tracer.ts stay the API's no-ops. Metrics are Prometheus's (src/metrics), so the SDK's
 * own metric and log exporters stay off unless their variables say otherwise.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { withoutCredentials } from '../config/url-credentials.js';

export interface Tracing {
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for traces. */
export function tracesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return !!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Where traces go, for the start-up line: without the credentials the URL may carry. */
export function otlpEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  // The exporter adds the path after one slash, however the base ends.
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  return withoutCredentials(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}/v1/traces`);
}

/**
 * Starts tracing for this process, or returns null when it is not asked for. `spanProcessors`
 * replace the OTLP exporter (tests record spans in memory with them).
 */
export async function startTracing(options: {
  serviceName: string;
  env?: NodeJS.ProcessEnv;
  spanProcessors?: SpanProcessor[];
}): Promise<Tracing | null> {
  const env = options.env ?? process.env;
  if (!options.spanProcessors && !tracesWanted(env)) return null;
  // The SDK reads these itself; unset, it would also try to export metrics and logs over OTLP.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName,
    instrumentations: [],
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
