import { describe, expect, it } from 'vitest';
import { captureLogger } from './utils/log-capture.js';
import { otlpEndpoint, startTracing, tracesWanted } from '../src/tracing/setup.js';
import { contextOf, currentTraceparent, inSpan, traceIdOf } from '../src/tracing/tracer.js';
import { trace } from '@opentelemetry/api';

// This file's process starts no SDK: what every process does without OTEL_* variables.
describe('the start-up line', () => {
  it('names the URL the exporter posts to, a trailing slash or not', () => {
    for (const base of ['http://127.0.0.1:4318', 'http://127.0.0.1:4318/'])
      expect(otlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: base })).toBe(
        'http://127.0.0.1:4318/v1/traces',
      );
  });

  it('does not name the credentials an endpoint carries', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:s3cret@collector:4318' };
    expect(otlpEndpoint(env)).toBe('https://***@collector:4318/v1/traces');
    const traces = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://s3cret@collector/v1/traces' };
    expect(otlpEndpoint(traces)).toBe('https://***@collector/v1/traces');
  });
});

describe('tracing, off', () => {
  it('is asked for by the standard OTLP variables only', () => {
    expect(tracesWanted({})).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x/v1/traces' })).toBe(true);
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(tracesWanted({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracesWanted({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('starts nothing, records nothing, and stores no trace context', async () => {
    expect(await startTracing({ serviceName: 'x', env: {} })).toBeNull();
    const { logger, entries } = captureLogger('info');
    const inside = await inSpan('work', {}, async (span) => {
      logger.info('inside a span');
      return { recording: span.isRecording(), traceparent: currentTraceparent() };
    });
    expect(inside).toEqual({ recording: false, traceparent: null });
    expect(entries[0]).not.toHaveProperty('traceId');
  });

  it('reads a stored traceparent back as the parent of a span', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(traceIdOf(traceparent)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(traceIdOf('garbage')).toBeNull();
    expect(traceIdOf(null)).toBeNull();
    const parent = trace.getSpanContext(contextOf(traceparent));
    expect(parent).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      isRemote: true,
    });
    expect(trace.getSpanContext(contextOf(null))).toBeUndefined();
  });
});
