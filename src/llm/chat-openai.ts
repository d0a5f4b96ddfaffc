import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { StructuredOutputMethodOptions } from '@langchain/core/language_models/base';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { RunnableLambda, type Runnable } from '@langchain/core/runnables';
import { isInteropZodSchema, type InteropZodType } from '@langchain/core/utils/types';
import { ChatOpenAI, type ChatOpenAIFields, type OpenAIClient } from '@langchain/openai';
import type { z } from 'zod';
import { guardedModel, type CallGuard } from './call-guard.js';
import type { StructuredOutputSetting } from './config.js';
import { promptedTools, refusesTools, toolsInPrompt } from './prompted-tools.js';
import { toStrictJsonSchema, type JsonSchema } from './strict-schema.js';
import { NotAnAnswerError, eventStreamChecking } from './event-stream.js';
import { refusesStreamOptions, streamsWithoutUsage } from './stream-usage.js';
import { invokeStructured } from './structured.js';
import { textCallId, textToolCalls, type TextToolCall } from './text-tool-calls.js';

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/** What the platform adds to ChatOpenAI: names for errors and logs, and its output rules. */
export interface PlatformModelOptions {
  /** The model and server, for messages: `gpt-4o-mini at http://127.0.0.1:8080/v1`. */
  where: string;
  /** LLM_TIMEOUT_MS, named in a timeout's message. */
  timeoutMs: number;
  /** What the calls are for, and their max_tokens, named when an answer is cut off. */
  purpose: string;
  maxTokens: number;
  structuredOutput: StructuredOutputSetting;
  log?: Log;
  /** Asked before each call (the budgets); kept by every model withConfig makes. */
  guard?: CallGuard;
}

type CallOptions = ChatOpenAI['ParsedCallOptions'];
type BoundTool = Parameters<ChatOpenAI['bindTools']>[0][number];

/**
 * ChatOpenAI as the platform uses it against any OpenAI-compatible server (issue 10):
 * - a timeout names the model, the server and LLM_TIMEOUT_MS (it said "Request timed out.");
 * - an answer cut off at max_tokens (a model repeating itself) is logged with the setting;
 * - a tool call a small model wrote as text, naming an offered tool, becomes a tool call, as
 *   Ollama does, instead of ending the step with the call as its answer;
 * - a server without tool calling (a 400 about tools, under auto; or LLM_STRUCTURED_OUTPUT
 *   json_mode/prompt) gets the tools described in the prompt instead (prompted-tools.ts);
 * - withStructuredOutput (zod) sends a strict-valid schema, falls back to weaker modes on
 *   servers that refuse it, and reports a cut-off or malformed answer with its text
 *   (src/llm/structured.ts);
 * - a streamed call refused for its `stream_options` (usage) is sent again without them, and
 *   so are the model's later ones (stream-usage.ts);
 * - a 200 that holds no answer fails as the server's fault, a 502 (event-stream.ts): a streamed
 *   call's body with no server-sent event in it (a proxy's page, nothing, keep-alive comments)
 *   instead of reading as an empty answer, and a call not streamed answered with other than
 *   JSON, or with JSON without choices (nothing, `null`), instead of what LangChain cannot read.
 * - a call its `guard` refuses is not sent (call-guard.ts).
 * withConfig and bindTools keep the class, so every derived model behaves the same.
 */
export class PlatformChatOpenAI extends guardedModel(ChatOpenAI) {
  constructor(
    fields: ChatOpenAIFields,
    readonly platform: PlatformModelOptions,
  ) {
    const fetch = eventStreamChecking(fields.configuration?.fetch);
    const checked = { ...fields, configuration: { ...fields.configuration, fetch } };
    super(streamsWithoutUsage.has(platform.where) ? { ...checked, streamUsage: false } : checked);
    this.guard = platform.guard;
  }

  override withConfig(config: Partial<CallOptions>) {
    // A fetch given to this model's client after construction (LLMCallRecorder.attach) stays.
    const fetch = (this.clientConfig as { fetch?: typeof globalThis.fetch } | undefined)?.fetch;
    const fields = this.fields ?? {};
    const configuration = fetch ? { ...fields.configuration, fetch } : fields.configuration;
    const model = new PlatformChatOpenAI({ ...fields, configuration }, this.platform);
    model.defaultOptions = { ...this.defaultOptions, ...config };
    return model;
  }

  override async _generate(
    messages: BaseMessage[],
    options: CallOptions,
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let result: ChatResult;
    const [sent, sentOptions] = this.prepared(messages, options);
    try {
      result = await super._generate(sent, sentOptions, runManager);
    } catch (err) {
      if (!this.learnsToolsRefused(err, sentOptions)) throw this.explain(err);
      return this._generate(messages, options, runManager);
    }
    const generation = result.generations[0];
    if (generation?.generationInfo?.finish_reason === 'length') this.cutOff();
    const message = generation?.message as AIMessage | undefined;
    if (!generation || !message || message.tool_calls?.length) return result;
    const calls = this.textCalls(message.text, options);
    if (calls.length === 0) return result;
    generation.message = new AIMessage({
      content: '',
      tool_calls: calls.map((c) => ({ ...c, id: textCallId(), type: 'tool_call' as const })),
      response_metadata: message.response_metadata,
      usage_metadata: message.usage_metadata,
      id: message.id,
    });
    generation.text = '';
    return result;
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: CallOptions,
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    let text = '';
    let called = false;
    const [sent, sentOptions] = this.prepared(messages, options);
    try {
      for await (const chunk of super._streamResponseChunks(sent, sentOptions, runManager)) {
        text += chunk.text ?? '';
        const message = chunk.message as AIMessageChunk;
        if (message.tool_call_chunks?.length) called = true;
        if (chunk.generationInfo?.finish_reason === 'length') this.cutOff();
        yield chunk;
      }
    } catch (err) {
      const again =
        !text &&
        !called &&
        (this.learnsStreamUsageRefused(err) || this.learnsToolsRefused(err, sentOptions));
      if (!again) throw this.explain(err);
      yield* this._streamResponseChunks(messages, options, runManager);
      return;
    }
    if (called) return;
    const calls = this.textCalls(text, options);
    if (calls.length === 0) return;
    // The text has streamed already; the calls join it as tool-call chunks of the same message.
    yield new ChatGenerationChunk({
      text: '',
      message: new AIMessageChunk({
        content: '',
        tool_call_chunks: calls.map((c, index) => ({
          type: 'tool_call_chunk' as const,
          name: c.name,
          args: JSON.stringify(c.args),
          id: textCallId(),
          index,
        })),
      }),
    });
  }

  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<false>,
  ): Runnable<BaseLanguageModelInput, RunOutput>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<true>,
  ): Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<boolean>,
  ):
    | Runnable<BaseLanguageModelInput, RunOutput>
    | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }> {
    // The platform's chains pass zod schemas; anything else keeps LangChain's behaviour.
    if (config?.includeRaw || config?.method || !isInteropZodSchema(outputSchema)) {
      return super.withStructuredOutput(outputSchema, config as StructuredOutputMethodOptions);
    }
    const name = config?.name ?? 'extract';
    const target = {
      withConfig: (options: Record<string, unknown>) => this.withConfig(options),
      key: this.platform.where,
      where: this.platform.where,
      setting: this.platform.structuredOutput,
      log: this.platform.log,
    };
    return RunnableLambda.from((input: BaseLanguageModelInput, runConfig) =>
      invokeStructured(target, outputSchema as z.ZodType<RunOutput>, name, input, runConfig),
    ).withConfig({ runName: 'StructuredOutput' });
  }

  /**
   * A tool with a zod schema (the platform's own) goes out in OpenAI's strict form: every
   * argument required, optional ones nullable (declared .nullish()), objects closed, no $schema.
   * A model that sends null for an argument it leaves out is then not refused, and the tool may
   * be marked strict. Outside (MCP) tools bring JSON Schema and keep it as they gave it.
   */
  protected override _convertChatOpenAIToolToCompletionsTool(
    tool: BoundTool,
    fields?: { strict?: boolean },
  ): OpenAIClient.ChatCompletionTool {
    const converted = super._convertChatOpenAIToolToCompletionsTool(tool, fields);
    const schema = (tool as { schema?: unknown }).schema;
    if (converted.type !== 'function' || !isInteropZodSchema(schema)) return converted;
    let parameters: JsonSchema;
    try {
      parameters = toStrictJsonSchema(schema as z.ZodType);
    } catch {
      return converted; // an optional argument not declared nullish: sent as LangChain has it
    }
    return { ...converted, function: { ...converted.function, parameters } };
  }

  /**
   * The request as sent: with the tools in the prompt instead of `tools` when the model does
   * not take tools (LLM_STRUCTURED_OUTPUT json_mode or prompt, or under auto once refused).
   */
  private prepared(messages: BaseMessage[], options: CallOptions): [BaseMessage[], CallOptions] {
    const setting = this.platform.structuredOutput;
    const inPrompt =
      setting === 'json_mode' ||
      setting === 'prompt' ||
      (setting === 'auto' && promptedTools.has(this.platform.where));
    if (!options.tools?.length || !inPrompt) return [messages, options];
    const rest = { ...options, tools: undefined, tool_choice: undefined };
    return [toolsInPrompt(messages, options.tools), rest];
  }

  /** True when `err` is a server refusing the tools just sent under auto (now remembered). */
  private learnsToolsRefused(err: unknown, sent: CallOptions): boolean {
    if (!sent.tools?.length || this.platform.structuredOutput !== 'auto') return false;
    // A forced tool is structured output: structured.ts steps down to JSON mode itself.
    if (typeof sent.tool_choice === 'object') return false;
    if (!refusesTools(err)) return false;
    promptedTools.learn(this.platform.where, err, this.platform.log);
    return true;
  }

  /** True when `err` is a server refusing `stream_options` (now remembered, and not sent). */
  private learnsStreamUsageRefused(err: unknown): boolean {
    if (!this.streamUsage || !refusesStreamOptions(err)) return false;
    streamsWithoutUsage.learn(this.platform.where, err, this.platform.log);
    this.streamUsage = this.completions.streamUsage = false;
    return true;
  }

  private textCalls(text: string, options: CallOptions): TextToolCall[] {
    if (!text.trim() || !options.tools?.length || options.tool_choice === 'none') return [];
    const names = options.tools
      .map((t) => (t as { function?: { name?: unknown } }).function?.name)
      .filter((n): n is string => typeof n === 'string');
    const calls = textToolCalls(text, names);
    if (calls.length > 0) {
      this.platform.log?.warn(
        { model: this.platform.where, tools: calls.map((c) => c.name) },
        `${this.platform.where} wrote its tool call as text; running it as a tool call`,
      );
    }
    return calls;
  }

  /** A model that wrote until max_tokens: a loop, or a budget too small for the purpose. */
  private cutOff(): void {
    const { where, purpose, maxTokens } = this.platform;
    this.platform.log?.warn(
      { model: where, purpose, maxTokens },
      `${where} was cut off at max_tokens (${maxTokens}) for ${purpose}; if answers need more, raise LLM_MAX_TOKENS_${purpose.toUpperCase()}`,
    );
  }

  /**
   * The one place model errors are worded: a timeout that names the model, the server and the
   * setting to raise; a connection the server dropped mid-answer (undici's bare "terminated"),
   * an answer the client could not read, or a 200 that held no answer, that say so; and
   * no LangChain "Troubleshooting URL" on any message.
   */
  private explain(err: unknown): unknown {
    withoutTroubleshooting(err);
    const e = err as { name?: string; message?: string };
    const dropped = droppedConnection(err);
    if (dropped !== null) {
      return new Error(
        `The model server ${this.platform.where} closed the connection before its answer was complete (${dropped})`,
        { cause: err }, // its code keeps it transient: the engine retries it
      );
    }
    // The client could not read the server's bytes: the server's fault, not the model's
    // answer (a SyntaxError would be taken for one), so a 502, retried like a 5xx.
    if (err instanceof SyntaxError && /^Error reading response/.test(err.message)) {
      const message = err.message.replace(/^Error reading response: /, '');
      return Object.assign(
        new Error(
          `The model server ${this.platform.where} sent a response that could not be read (${message})`,
          {
            cause: err,
          },
        ),
        { status: 502 },
      );
    }
    if (err instanceof NotAnAnswerError) {
      return Object.assign(
        new Error(`The model server ${this.platform.where} ${err.message}`, { cause: err }),
        { status: 502 }, // the server's fault, not the model's: retried like a 5xx
      );
    }
    if (e?.name !== 'TimeoutError' && !/request timed out/i.test(e?.message ?? '')) return err;
    const explained = new Error(
      `The model ${this.platform.where} did not answer within ${this.platform.timeoutMs} ms (LLM_TIMEOUT_MS); a local model on a CPU may need more: raise LLM_TIMEOUT_MS`,
      { cause: err },
    );
    explained.name = 'TimeoutError'; // still transient: the engine retries it
    return explained;
  }
}

/** What a connection dropped mid-answer says ("terminated: other side closed"), else null. */
function droppedConnection(err: unknown): string | null {
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  if (!(err instanceof TypeError) || e.message !== 'terminated') return null;
  const why = typeof e.cause?.message === 'string' ? `: ${e.cause.message}` : '';
  return `terminated${why}`;
}

/**
 * Drops the "Troubleshooting URL: ..." LangChain appends to a model error's message (a 429,
 * a 401): runs and call records show what the server said. The error keeps its class,
 * status and headers (a 429's Retry-After), so its message is changed in place.
 */
function withoutTroubleshooting(err: unknown): void {
  if (!(err instanceof Error)) return;
  err.message = err.message.replace(/\s*Troubleshooting URL: \S+\s*$/, '');
}
