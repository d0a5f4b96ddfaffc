/**
 * A model call as an OpenTelemetry `chat {model}` span (GenAI conventions, issue 17), made from
 * the :LLMCall record itself, so a trace's token counts are the graph's. Its parent is the
 * context in which the recorder was made (the step's `invoke_agent` span).
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type { LLMCallRecord } from '../domain/llm-call.js';
import { captureMessageContent, SpanKind, tracer, type Context } from '../tracing/tracer.js';
import { errorClass } from './call-metrics.js';

export function spanModelCall(
  call: LLMCallRecord,
  parent: Context,
  error: unknown,
  content: { input?: unknown; output?: unknown },
): void {
  const end = Date.now();
  const span = tracer.startSpan(
    `chat ${call.model}`,
    {
      kind: SpanKind.CLIENT,
      startTime: new Date(end - call.latencyMs),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': call.provider,
        'gen_ai.request.model': call.model,
        ...(call.responseModel ? { 'gen_ai.response.model': call.responseModel } : {}),
        'gen_ai.usage.input_tokens': call.promptTokens,
        'gen_ai.usage.output_tokens': call.completionTokens,
        'agent_platform.llm_call.id': call.id,
        'agent_platform.llm_call.purpose': call.purpose,
        'agent_platform.llm_call.cost_usd': call.costUsd,
      },
    },
    parent,
  );
  if (span.isRecording() && captureMessageContent()) {
    if (content.input !== undefined)
      span.setAttribute('gen_ai.input.messages', JSON.stringify(content.input));
    if (content.output !== undefined)
      span.setAttribute('gen_ai.output.messages', JSON.stringify(content.output));
  }
  if (call.error !== null) {
    span.setAttribute('error.type', errorClass(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: call.error });
  }
  span.end(end);
}
