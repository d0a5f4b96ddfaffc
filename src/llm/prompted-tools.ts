import {
  AIMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  type BaseMessage,
} from '@langchain/core/messages';

import { LearnedRefusals } from './learned-refusals.js';
import { isTextCall } from './text-tool-calls.js';

/** Models (by `model at server`) found to refuse `tools`: their tools travel in the prompt. */
export const promptedTools = new LearnedRefusals(
  (where) =>
    `${where} refused tools; its tools are described in the prompt and text tool calls are read`,
);

/** A 400 (or 422/501) about tools: a server without tool calling. */
export function refusesTools(err: unknown): boolean {
  const e = err as { status?: number; message?: string };
  if (![400, 422, 501].includes(e?.status ?? 0)) return false;
  return /tool|function/i.test(e.message ?? '');
}

type OpenAITool = { function?: { name?: string; description?: string; parameters?: unknown } };

/**
 * The conversation for a server without tool calling: the tools described in the (first)
 * system message, earlier tool calls written as the JSON text the model is asked for, and tool
 * results as user messages. The answer's text tool calls are read back by text-tool-calls.ts.
 */
export function toolsInPrompt(messages: BaseMessage[], tools: readonly unknown[]): BaseMessage[] {
  const described = (tools as OpenAITool[])
    .filter((t) => typeof t.function?.name === 'string')
    .map(
      (t) =>
        `- ${t.function!.name}: ${t.function!.description ?? ''} Arguments (JSON Schema): ${JSON.stringify(t.function!.parameters ?? {})}`,
    )
    .join('\n');
  const rule = `You can use these tools. To use one, answer with nothing but a JSON object in a json code fence: {"name": "<tool>", "arguments": {...}}. You will get its result in the next message. When you have what you need, answer normally.\n${described}`;
  const names = new Map<string, string>();
  let system = false;
  const out = messages.map((m): BaseMessage => {
    if (m.type === 'system' && !system) {
      system = true;
      return new SystemMessage(`${m.text}\n\n${rule}`);
    }
    if (AIMessage.isInstance(m) && m.tool_calls?.length) {
      for (const c of m.tool_calls) if (c.id) names.set(c.id, c.name);
      // A streamed text call is in m.text already: written again, the model saw two calls.
      const calls = m.tool_calls
        .filter((c) => !(m.text && isTextCall(c.id)))
        .map((c) => `\`\`\`json\n${JSON.stringify({ name: c.name, arguments: c.args })}\n\`\`\``);
      return new AIMessage([m.text, ...calls].filter(Boolean).join('\n'));
    }
    if (ToolMessage.isInstance(m)) {
      const name = m.name ?? names.get(m.tool_call_id) ?? 'the tool';
      return new HumanMessage(`Result of ${name}:\n${m.text}`);
    }
    return m;
  });
  return system ? out : [new SystemMessage(rule), ...out];
}
