import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type {
  BaseLanguageModelInput,
  StructuredOutputMethodOptions,
  ToolDefinition,
} from '@langchain/core/language_models/base';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
  type LangSmithParams,
} from '@langchain/core/language_models/chat_models';
import {
  assembleStructuredOutputPipeline,
  createFunctionCallingParser,
} from '@langchain/core/language_models/structured_output';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import type { SerializableSchema } from '@langchain/core/utils/standard_schema';
import type { InteropZodType } from '@langchain/core/utils/types';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardedModel, type CallGuard } from './call-guard.js';
import { fillSchema, type FillHints, type JsonSchema } from './offline-fill.js';
import { hintsFor } from './offline-replies.js';
import { countWords, mentionsQuestion, stepText } from './offline-text.js';
import { purposeIn } from './routing.js';

export const OFFLINE_MODEL_NAME = 'offline/deterministic-v1';

/** Every offline response carries this in `response_metadata`, so no one mistakes it. */
export const OFFLINE_METADATA = Object.freeze({ provider: 'offline', model: OFFLINE_MODEL_NAME });

export interface OfflineChatModelCallOptions extends BaseChatModelCallOptions {
  /** Set by bindTools, in OpenAI's format. */
  tools?: ToolDefinition[];
}

export interface OfflineChatModelParams extends BaseChatModelParams {
  /** How long each call takes before it answers (0: at once); an abort ends the wait. */
  delayMs?: number;
  /** Asked before each call (the budgets): call-guard.ts. */
  guard?: CallGuard;
}

type ToolCallOut = { name: string; args: Record<string, unknown>; id: string; type: 'tool_call' };

/**
 * OFFLINE MODEL: a deterministic stand-in for a language model, used when no provider is
 * configured. It does not understand anything: it rearranges the prompt's own text, and every
 * response says so in `response_metadata` ({ provider: 'offline', model: OFFLINE_MODEL_NAME }).
 * Same input, same output: no randomness, no clock, no network. It answers at once unless
 * given a latency (`delayMs`, LLM_OFFLINE_DELAY_MS), which changes when it answers, never what:
 * load shaped like a real model's, whose calls take seconds (npm run bench:agents).
 *
 * It goes through the same chains as a real model: bindTools, withStructuredOutput (by tool
 * calling, validated by the caller's zod schema), streaming, usage_metadata (word counts).
 * Its behaviour follows the purpose marker in the system prompt (purposeMarker() in
 * routing.ts; chat when there is none):
 * - planning: 2 to 4 steps split from the task's text (offline-text.ts planSteps);
 * - execution: with tools bound and no tool results yet, calls `search_knowledge` with the
 *   step title, `ask_agent` too when the step mentions a question/ask/check, and each outside
 *   (MCP) tool, named `server__tool`, that the step's text names; with tool
 *   results, a short report quoting the step and the results;
 * - evaluation: a pass; extraction: facts and lessons, one per sentence;
 * - synthesis: a summary joining the first sentence of each report; chat: an echo.
 * A forced tool_choice (as withStructuredOutput sets) always gets that tool called with
 * arguments filled from its JSON schema (offline-fill.ts).
 */
export class OfflineChatModel extends guardedModel(BaseChatModel<OfflineChatModelCallOptions>) {
  readonly model = OFFLINE_MODEL_NAME;
  private readonly delayMs: number;

  constructor({ guard, ...fields }: OfflineChatModelParams = {}) {
    super(fields);
    this.delayMs = fields.delayMs ?? 0;
    this.guard = guard;
  }

  static override lc_name(): string {
    return 'OfflineChatModel';
  }

  _llmType(): string {
    return 'offline';
  }

  override getLsParams(options: this['ParsedCallOptions']): LangSmithParams {
    return { ...super.getLsParams(options), ls_provider: 'offline', ls_model_name: this.model };
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<OfflineChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, OfflineChatModelCallOptions> {
    return this.withConfig({ tools: tools.map((tool) => convertToOpenAITool(tool)), ...kwargs });
  }

  /** Like ChatOpenAI's "functionCalling" method (whatever `method` says): a forced tool call. */
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | SerializableSchema<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<false>,
  ): Runnable<BaseLanguageModelInput, RunOutput>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | SerializableSchema<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<true>,
  ): Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | SerializableSchema<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<boolean>,
  ):
    | Runnable<BaseLanguageModelInput, RunOutput>
    | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }> {
    const name = config?.name ?? 'extract';
    const parameters = toJsonSchema(outputSchema as Parameters<typeof toJsonSchema>[0]);
    const llm = this.withConfig({
      tools: [{ type: 'function', function: { name, parameters } }],
      tool_choice: { type: 'function', function: { name } },
    });
    const parser = createFunctionCallingParser<RunOutput>(outputSchema, name);
    return assembleStructuredOutputPipeline(llm, parser, config?.includeRaw, 'StructuredOutput');
  }

  async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    await this.latency(options.signal);
    const message = this.respond(messages, options);
    // Token callbacks as a streaming model sends them, so steps stream on the offline model too.
    for (const piece of message.text.match(/\S+\s*/g) ?? []) {
      await runManager?.handleLLMNewToken(piece);
    }
    return { generations: [{ text: message.text, message }] };
  }

  /** The same response as _generate: a chunk per word, a chunk per tool call, then usage. */
  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    await this.latency(options.signal);
    const full = this.respond(messages, options);
    for (const piece of full.text.match(/\S+\s*/g) ?? []) {
      const chunk = new ChatGenerationChunk({
        text: piece,
        message: new AIMessageChunk({ content: piece }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(piece, undefined, undefined, undefined, undefined, {
        chunk,
      });
    }
    for (const [index, call] of full.tool_calls!.entries()) {
      const args = JSON.stringify(call.args);
      yield new ChatGenerationChunk({
        text: '',
        message: new AIMessageChunk({
          content: '',
          tool_call_chunks: [
            { type: 'tool_call_chunk', name: call.name, args, id: call.id, index },
          ],
        }),
      });
    }
    yield new ChatGenerationChunk({
      text: '',
      message: new AIMessageChunk({
        content: '',
        response_metadata: full.response_metadata,
        usage_metadata: full.usage_metadata,
      }),
    });
  }

  /** The configured latency; rejects with the signal's reason once the call is aborted. */
  private async latency(signal?: AbortSignal): Promise<void> {
    if (this.delayMs <= 0) return;
    await sleep(this.delayMs, undefined, { signal }).catch((err: unknown) => {
      throw signal?.aborted ? signal.reason : err;
    });
  }

  /** The whole response: purpose from the marker, then tool calls or text. */
  private respond(messages: BaseMessage[], options: this['ParsedCallOptions']): AIMessage {
    const system = messages.filter((m) => m.type === 'system').map((m) => m.text);
    const purpose = purposeIn(system.join('\n')) ?? 'chat';
    const lastHuman = messages.findLastIndex((m) => m.type === 'human');
    const input = messages[lastHuman]?.text ?? '';
    const results = messages.slice(lastHuman + 1).filter((m) => m.type === 'tool');
    const tools = (options.tools ?? []).filter((t) => typeof t?.function?.name === 'string');
    const hints = hintsFor(purpose, input, messages, results);

    let calls: Array<{ name: string; args: Record<string, unknown> }> = [];
    const forced = forcedTool(options.tool_choice, tools);
    if (forced) {
      calls = [{ name: forced.function.name, args: fillArgs(forced, hints) }];
    } else if (purpose === 'execution' && results.length === 0 && options.tool_choice !== 'none') {
      const search = tools.find((t) =>
        /search.*knowledge|knowledge.*search/i.test(t.function.name),
      );
      const ask = tools.find((t) => /ask.*agent/i.test(t.function.name));
      if (search) calls.push({ name: search.function.name, args: fillArgs(search, hints) });
      if (ask && mentionsQuestion(stepText(input, { inputs: true }))) {
        calls.push({ name: ask.function.name, args: fillArgs(ask, hints) });
      }
      // Outside (MCP) tools are named server__tool: the step names the ones it wants.
      const own = stepText(input, { inputs: false });
      for (const t of tools) {
        if (t.function.name.includes('__') && own.includes(t.function.name))
          calls.push({ name: t.function.name, args: fillArgs(t, hints) });
      }
    }
    const content = calls.length > 0 ? '' : String(hints.fields?.summary ?? '');
    const digest = hash(JSON.stringify([messages.map((m) => [m.type, m.text]), calls]));
    const toolCalls: ToolCallOut[] = calls.map((call, i) => ({
      ...call,
      id: `call_offline_${digest.slice(0, 12)}_${i}`,
      type: 'tool_call',
    }));
    const inputTokens = messages.reduce((n, m) => n + countWords(m.text) + argWords(m), 0);
    const outputTokens = countWords(content) + toolCalls.reduce((n, c) => n + callWords(c), 0);
    return new AIMessage({
      content,
      tool_calls: toolCalls,
      response_metadata: {
        ...OFFLINE_METADATA,
        model_name: OFFLINE_MODEL_NAME,
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
      usage_metadata: {
        input_tokens: inputTokens,
        output_tokens: outputTokens,
        total_tokens: inputTokens + outputTokens,
      },
    });
  }
}

/** The tool a tool_choice forces: a name, { function: { name } }, or any/required = the first. */
function forcedTool(
  choice: OfflineChatModelCallOptions['tool_choice'],
  tools: ToolDefinition[],
): ToolDefinition | undefined {
  if (!choice || choice === 'auto' || choice === 'none') return undefined;
  const name =
    typeof choice === 'string'
      ? choice === 'any' || choice === 'required'
        ? tools[0]?.function.name
        : choice
      : (choice.function?.name ?? choice.name);
  return tools.find((t) => t.function.name === name);
}

function fillArgs(tool: ToolDefinition, hints: FillHints): Record<string, unknown> {
  const schema = (tool.function.parameters ?? { type: 'object', properties: {} }) as JsonSchema;
  const value = fillSchema(schema, hints);
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');
const callWords = (c: { name: string; args: unknown }) =>
  countWords(c.name) + countWords(JSON.stringify(c.args));
const argWords = (m: BaseMessage) =>
  AIMessage.isInstance(m) ? (m.tool_calls ?? []).reduce((n, c) => n + callWords(c), 0) : 0;
