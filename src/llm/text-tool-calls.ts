import { randomUUID } from 'node:crypto';

const TEXT_CALL_ID = 'call_text_';

/** The id of a tool call read from a model's text. */
export const textCallId = (): string => `${TEXT_CALL_ID}${randomUUID().slice(0, 12)}`;

/** True for a tool call read from a model's text (textCallId). */
export const isTextCall = (id: string | undefined): boolean => !!id?.startsWith(TEXT_CALL_ID);

/** A tool call a model wrote as text instead of sending it as a tool call. */
export interface TextToolCall {
  name: string;
  args: Record<string, unknown>;
}

/**
 * The tool calls `text` consists of, when a model that was offered `tools` wrote its calls as
 * text (small local models do: ```json {"name": ..., "arguments": ...}```, or Qwen's
 * `<tool_call>...</tool_call>`), as Ollama parses them; else []. Only a text that is nothing
 * but such calls, each naming an offered tool with object arguments, counts: prose that
 * merely contains JSON stays prose.
 */
export function textToolCalls(text: string, tools: readonly string[]): TextToolCall[] {
  if (tools.length === 0) return [];
  const blocks: string[] = [];
  // Fenced or tagged blocks first; whatever is left outside them must be blank.
  const outside = text.replace(
    /```(?:json|tool_call|tool)?\s*([\s\S]*?)```|<tool_call>([\s\S]*?)<\/tool_call>/gi,
    (_m, fenced: string | undefined, tagged: string | undefined) => {
      blocks.push((fenced ?? tagged ?? '').trim());
      return '';
    },
  );
  if (outside.trim()) {
    if (blocks.length > 0) return [];
    blocks.push(outside.trim());
  }
  const calls: TextToolCall[] = [];
  for (const block of blocks) {
    let value: unknown;
    try {
      value = JSON.parse(block);
    } catch {
      return [];
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      const call = asCall(item, tools);
      if (!call) return [];
      calls.push(call);
    }
  }
  return calls;
}

function asCall(item: unknown, tools: readonly string[]): TextToolCall | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const o = item as Record<string, unknown>;
  // OpenAI's own shape nests the call under "function".
  const fn = (typeof o.function === 'object' && o.function !== null ? o.function : o) as Record<
    string,
    unknown
  >;
  const name = fn.name ?? fn.tool;
  if (typeof name !== 'string' || !tools.includes(name)) return undefined;
  let args = fn.arguments ?? fn.parameters ?? fn.args ?? fn.tool_input ?? {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return undefined;
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
  return { name, args: args as Record<string, unknown> };
}
