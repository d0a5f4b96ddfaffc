/**
 * The platform's spans (issue 17): opt-in OpenTelemetry, through @opentelemetry/api only, so
 * with no SDK started (setup.ts) every call here is the API's no-op and costs next to nothing.
 *
 * Conventions: database spans follow the OpenTelemetry semantic conventions for databases;
 * agent spans follow the GenAI conventions of semantic conventions 1.37 (`invoke_agent`,
 * `chat`, `execute_tool`, `gen_ai.provider.name`), still at "development" status upstream.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';

export { SpanKind, type Span, type Context };

/** The semantic conventions version the spans follow (the tracer's schema URL says so too). */
export const SEMCONV_VERSION = '1.37.0';

// The global provider is a proxy: spans become real once setup.ts registers the SDK.
export const tracer = trace.getTracerProvider().getTracer('agent-platform', VERSION, {
  schemaUrl: `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`,
});

/** Whether the GenAI spans may carry message content (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT). */
export const captureMessageContent = (): boolean =>
  /^(true|1)$/i.test(process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? '');

/** Marks a span failed with the error's type and message. */
export function failSpan(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setAttribute('error.type', e.name || 'Error');
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

/**
 * Runs `work` in a new span (a child of `parent`, else of the active span), ending it when the
 * work settles, failed when it throws.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * The active span as a W3C `traceparent`, to be stored with what outlives the request (a
 * workflow's root task); null when no span is recording (tracing off).
 */
export function currentTraceparent(): string | null {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return null;
  const flags = (sc.traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, '0');
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a stored `traceparent`, or null. */
export function traceIdOf(traceparent: string | null | undefined): string | null {
  return (traceparent && TRACEPARENT.exec(traceparent)?.[1]) || null;
}

/** A context whose parent is the span a stored `traceparent` names (root when there is none). */
export function contextOf(traceparent: string | null | undefined): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: parseInt(m[3]!, 16),
    isRemote: true,
  });
}

/** The active trace and span ids, for log lines; empty when there is no span. */
export function logIds(): { traceId?: string; spanId?: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : {};
}
