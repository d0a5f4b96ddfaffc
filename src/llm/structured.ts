import {
  AIMessageChunk,
  SystemMessage,
  coerceMessageLikeToMessage,
  type BaseMessage,
} from '@langchain/core/messages';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { z } from 'zod';
import type { StructuredMode, StructuredOutputSetting } from './config.js';
import { promptedTools } from './prompted-tools.js';
import { streamsWithoutUsage } from './stream-usage.js';
import { toStrictJsonSchema, type JsonSchema } from './strict-schema.js';

/**
 * A structured answer that cannot be used: not JSON, not the schema, or cut off at max_tokens.
 * `raw` is what the model wrote, so a repair prompt can show it what it sent.
 */
export class StructuredOutputError extends Error {
  override name = 'StructuredOutputError';
  constructor(
    /** What is wrong, for a repair prompt: "the answer was cut off ...". */
    readonly problem: string,
    readonly raw: string,
    readonly truncated = false,
  ) {
    super(problem);
  }
}

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/** The model a structured call goes to: call options are applied with `withConfig`. */
export interface StructuredTarget {
  withConfig(options: Record<string, unknown>): {
    stream(input: BaseMessage[], options?: RunnableConfig): Promise<AsyncIterable<AIMessageChunk>>;
  };
  /** Which model at which server: modes are remembered per key. */
  key: string;
  /** For logs: `model x at http://...`. */
  where: string;
  setting: StructuredOutputSetting;
  log?: Log;
}

/** From strongest to weakest: each is tried when the one before is refused (auto). */
const ORDER: readonly StructuredMode[] = ['json_schema', 'function_calling', 'json_mode', 'prompt'];

/** The mode each model got under `auto`, once a server refused a stronger one (per process). */
const remembered = new Map<string, StructuredMode>();
const announced = new Set<string>();

/** Forgets the modes learned under `auto`, and every refusal learned (tests). */
export function forgetStructuredModes(): void {
  remembered.clear();
  announced.clear();
  promptedTools.forget();
  streamsWithoutUsage.forget();
}

/** The mode a model uses now: the setting, or under auto what it was last found to accept. */
export function structuredModeOf(target: Pick<StructuredTarget, 'key' | 'setting'>) {
  return target.setting === 'auto' ? (remembered.get(target.key) ?? 'json_schema') : target.setting;
}

/**
 * Asks `target` for an answer matching `schema`, in the mode LLM_STRUCTURED_OUTPUT names:
 * json_schema (strict response_format), function_calling (one forced tool), json_mode
 * (response_format json_object, the schema in the prompt) or prompt (the schema in the prompt
 * only). Under `auto`, a 400 about the request's format (a server without json_schema or
 * tools) retries in the next weaker mode, which is remembered for the model and logged.
 * The call streams, so usage arrives and a cut-off answer is seen (finish_reason "length").
 *
 * @throws StructuredOutputError when the answer is cut off, is not JSON or misses the schema.
 */
export async function invokeStructured<T>(
  target: StructuredTarget,
  schema: z.ZodType<T>,
  name: string,
  input: BaseLanguageModelInput,
  config?: RunnableConfig,
): Promise<T> {
  const messages = toMessages(input);
  const json = toStrictJsonSchema(schema);
  let mode = structuredModeOf(target);
  for (;;) {
    let answer: AIMessageChunk | undefined;
    try {
      const model = target.withConfig(optionsFor(mode, name, json));
      const stream = await model.stream(withSchemaPrompt(mode, messages, json), config);
      for await (const chunk of stream) answer = answer ? answer.concat(chunk) : chunk;
    } catch (err) {
      const next = ORDER[ORDER.indexOf(mode) + 1];
      if (target.setting !== 'auto' || !next || !refusesMode(err)) throw err;
      target.log?.warn(
        { model: target.where, refused: mode, next, err: (err as Error).message },
        `structured output: ${target.where} refused ${mode}; trying ${next}`,
      );
      remembered.set(target.key, next);
      mode = next;
      continue;
    }
    if (!announced.has(`${target.key}|${mode}`)) {
      announced.add(`${target.key}|${mode}`);
      target.log?.info(
        { model: target.where, mode },
        `structured output: ${target.where} answers in ${mode}`,
      );
    }
    return parseAnswer(answer ?? new AIMessageChunk({ content: '' }), mode, schema, name);
  }
}

function optionsFor(mode: StructuredMode, name: string, schema: JsonSchema) {
  const description = typeof schema.description === 'string' ? schema.description : undefined;
  switch (mode) {
    case 'json_schema':
      return {
        response_format: {
          type: 'json_schema',
          json_schema: { name, description, schema, strict: true },
        },
      };
    case 'function_calling':
      return {
        tools: [
          { type: 'function', function: { name, description, parameters: schema, strict: true } },
        ],
        tool_choice: { type: 'function', function: { name } },
      };
    case 'json_mode':
      return { response_format: { type: 'json_object' } };
    case 'prompt':
      return {};
  }
}

/** In json_mode and prompt mode the schema travels in the (first) system message. */
function withSchemaPrompt(mode: StructuredMode, messages: BaseMessage[], schema: JsonSchema) {
  if (mode !== 'json_mode' && mode !== 'prompt') return messages;
  const rule = `Answer with one JSON object and nothing else (no prose, no code fence) that matches this JSON Schema; use null for a value you leave out:\n${JSON.stringify(schema)}`;
  const first = messages.findIndex((m) => m.type === 'system');
  // One system message, first: some local chat templates refuse a second one.
  if (first < 0) return [new SystemMessage(rule), ...messages];
  return messages.map((m, i) => (i === first ? new SystemMessage(`${m.text}\n\n${rule}`) : m));
}

function parseAnswer<T>(
  answer: AIMessageChunk,
  mode: StructuredMode,
  schema: z.ZodType<T>,
  name: string,
): T {
  const call =
    answer.tool_calls?.find((c) => c.name === name) ??
    (mode === 'function_calling' ? answer.tool_calls?.[0] : undefined);
  const broken = answer.invalid_tool_calls?.[0];
  const raw = call ? JSON.stringify(call.args) : broken ? String(broken.args ?? '') : answer.text;
  if (answer.response_metadata?.finish_reason === 'length') {
    throw new StructuredOutputError(
      'the answer was cut off at the max_tokens limit before it was complete; answer shorter',
      raw,
      true,
    );
  }
  let value: unknown = call?.args;
  if (!call) {
    try {
      value = JSON.parse(jsonIn(raw));
    } catch (err) {
      const why = raw.trim() ? (err as Error).message : 'it was empty';
      throw new StructuredOutputError(`the answer was not JSON: ${why}`, raw);
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
    .join('; ');
  throw new StructuredOutputError(`the answer did not match the schema: ${issues}`, raw);
}

/** The JSON in a model's text: a fenced block's body, else from the first { to the last }. */
function jsonIn(text: string): string {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text)?.[1];
  if (fenced) return fenced.trim();
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start >= 0 && end > start ? text.slice(start, end + 1) : text;
}

/** A 400 (or 422/501) about the request's format: a server without json_schema or tools. */
function refusesMode(err: unknown): boolean {
  const e = err as { status?: number; message?: string };
  if (![400, 422, 501].includes(e?.status ?? 0)) return false;
  return /response_format|json_schema|json_object|structured|tool|function|strict|schema|grammar|not supported|unsupported/i.test(
    e.message ?? '',
  );
}

function toMessages(input: BaseLanguageModelInput): BaseMessage[] {
  if (typeof input === 'string') return [coerceMessageLikeToMessage(input)];
  if (Array.isArray(input)) return input.map(coerceMessageLikeToMessage);
  return input.toChatMessages();
}
