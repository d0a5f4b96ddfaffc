import { ToolMessage } from '@langchain/core/messages';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { createMiddleware } from 'langchain';
import { captureMessageContent, failSpan, SpanKind, tracer } from '../tracing/tracer.js';

/**
 * An `execute_tool {name}` span around every tool call of an agent loop (GenAI conventions,
 * issue 17): built-in, MCP and held ones alike. Arguments and results only when message
 * content may be traced. A pause for a person is not a failure: its span ends without an error.
 */
export function toolSpans() {
  return createMiddleware({
    name: 'ToolSpans',
    wrapToolCall: async (request, handler) => {
      const { name, id, args } = request.toolCall;
      const span = tracer.startSpan(`execute_tool ${name}`, {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': name,
          'gen_ai.tool.type': 'function',
          ...(id ? { 'gen_ai.tool.call.id': id } : {}),
        },
      });
      const content = captureMessageContent();
      if (content) span.setAttribute('gen_ai.tool.call.arguments', JSON.stringify(args));
      try {
        const out = await context.with(trace.setSpan(context.active(), span), () =>
          handler(request),
        );
        if (ToolMessage.isInstance(out)) {
          if (out.status === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
          if (content) span.setAttribute('gen_ai.tool.call.result', String(out.content));
        }
        return out;
      } catch (err) {
        if ((err as { is_bubble_up?: boolean })?.is_bubble_up !== true) failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  });
}
