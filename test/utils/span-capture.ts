import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll } from 'vitest';
import { startTracing, type Tracing } from '../../src/tracing/setup.js';

/**
 * Records this process's spans in memory for the calling test file: the SDK is started once
 * before its tests (as main.ts does with OTLP) and shut down after them. The OpenTelemetry API
 * takes one global provider per process, so call it once per file, at its top level.
 */
export function captureSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing | null = null;
  beforeAll(async () => {
    tracing = await startTracing({
      serviceName: 'agent-platform-test',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
  });
  afterAll(() => tracing?.shutdown());
  return exporter;
}
