import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { BaseMessage } from '@langchain/core/messages';
import type { ChatGeneration, LLMResult } from '@langchain/core/outputs';
import { randomUUID } from 'node:crypto';
import type { LLMCallRecord } from '../domain/llm-call.js';
import { writeCall, type CallLog, type Write, type WriteRetry } from './call-writer.js';
import { priceCall, type PriceTable } from './pricing.js';
import { countModelCall } from './call-metrics.js';
import { spanModelCall } from './call-span.js';
import { context } from '@opentelemetry/api';
import { captureMessageContent } from '../tracing/tracer.js';
import { answerReadingFetch, type ServerAnswer } from './server-answers.js';

export interface LLMCallRecorderOptions {
  /** Where calls are written, each in its own transaction: a Graph or UnitOfWork, or its write. */
  store: { write: Write } | Write;
  tenantId: string;
  purpose: string;
  /** The platform's :Run this call belongs to; links the call and supplies task and agent. */
  runId?: string | null;
  taskId?: string | null;
  /** The agent whose call it is; the run's agent when unset. */
  agentId?: string | null;
  prices: PriceTable;
  /** The configured provider and model (describeModel()): recorded as `model`. */
  describe: { provider: string; model: string };
  /** Where failed writes are reported; console when unset. */
  log?: CallLog;
  /** How a refused write is retried (call-writer.ts). */
  writeRetry?: WriteRetry;
  /** Where each call's cost is added as it is recorded: its step's `run.spent` (executor.ts). */
  spent?: { usd: number };
}

/** Tokens and the reporting model of one answer. */
type Reported = { prompt: number; completion: number; cached: number; model: string | null };

const NOTHING: Reported = { prompt: 0, completion: 0, cached: 0, model: null };

/**
 * A LangChain callback that records every model call it sees as an :LLMCall: the configured
 * model and the one the server names (`model`, `responseModel`; priced by the reported name,
 * else the configured one), tokens (cached prompt tokens apart), latency and cost.
 *
 * A call that reached the model is recorded with the usage the server reported even when it
 * failed afterwards: `attach(model)` makes a ChatOpenAI hand this recorder every JSON answer it
 * receives, because OpenAI's client parses structured answers itself and throws before
 * LangChain sees any usage (a client retry after such an answer is one more call). A call that
 * never got an answer is recorded with `error` and zero tokens.
 *
 * One recorder serves one model's calls one at a time, as the agent chains make them (answers
 * are matched to calls by completion id, else in order). Writes happen in the background, each
 * in its own transaction, retried when refused (call-writer.ts); `flush()` waits for them. It
 * never throws into the model call.
 */
export class LLMCallRecorder extends BaseCallbackHandler {
  name = 'llm_call_recorder';
  private readonly started = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Answers read off the wire and not yet matched to a LangChain call, oldest first. */
  private readonly answers: ServerAnswer[] = [];
  private readonly write: Write;

  /** Where its calls' spans go: the context it was made in (the step's span), issue 17. */
  private readonly traceParent = context.active();
  /** The messages of calls in flight, kept for their spans only when content may be traced. */
  private readonly inputs = new Map<string, unknown>();

  constructor(private readonly options: LLMCallRecorderOptions) {
    // Awaited by LangChain, so the write is queued before invoke() returns; the handlers
    // themselves only queue it and return at once.
    super({ _awaitHandler: true });
    const { store } = options;
    this.write = typeof store === 'function' ? store : (work) => store.write(work);
  }

  /**
   * Lets this recorder read the usage of every answer `model` receives (see the class comment).
   * For ChatOpenAI (its delegates, and the models withConfig builds from its `fields`) before
   * its first call: its client is built lazily from `clientConfig`, so the fetch is set there,
   * around the model's own, which checks its answers (event-stream.ts). Verified against
   * @langchain/openai 1.6; test/llm-call-records.int.test.ts fails if that changes. Any other
   * model is returned unchanged.
   */
  attach<M>(model: M): M {
    type Configurable = { clientConfig?: { fetch?: typeof fetch }; client?: unknown };
    const m = model as Configurable & {
      completions?: Configurable;
      responses?: Configurable;
      fields?: { configuration?: { fetch?: typeof fetch } };
    };
    for (const target of [m, m.completions, m.responses]) {
      if (target && typeof target.clientConfig === 'object' && !target.client) {
        target.clientConfig = {
          ...target.clientConfig,
          fetch: this.fetchOver(target.clientConfig),
        };
      }
    }
    // ChatOpenAI.withConfig (and so withStructuredOutput) builds a new model from `fields`.
    if (m.fields && typeof m.fields === 'object') {
      const configuration = m.fields.configuration ?? {};
      m.fields = {
        ...m.fields,
        configuration: { ...configuration, fetch: this.fetchOver(configuration) },
      };
    }
    return model;
  }

  /** A fetch handing this recorder every JSON answer's usage, around the one `config` had. */
  private fetchOver(config: { fetch?: typeof fetch }): typeof fetch {
    return answerReadingFetch((a) => void this.answers.push(a), config.fetch);
  }

  override handleLLMStart(_llm: Serialized, _prompts: string[], runId: string): void {
    this.started.set(runId, performance.now());
  }

  override handleChatModelStart(_llm: Serialized, messages: BaseMessage[][], runId: string): void {
    this.started.set(runId, performance.now());
    if (captureMessageContent()) this.inputs.set(runId, messagesForSpan(messages[0] ?? []));
  }

  // Returned (and so awaited, see _awaitHandler): a step's totals are complete when it ends.
  override handleLLMEnd(output: LLMResult, runId: string): Promise<void> {
    return this.guard(() => {
      const latencyMs = this.latency(runId);
      const id = responseIdOf(output);
      let at = id === undefined ? -1 : this.answers.findIndex((a) => a.id === id);
      // A server that names no completion id: its answers are this (sequential) call's, the
      // last one this answer. (A streamed answer leaves none queued.)
      if (at < 0 && this.answers.length > 0 && this.answers.every((a) => a.id === null)) {
        at = this.answers.length - 1;
      }
      // Answers before this one were the same call's, retried by the client: it could not use them.
      const retried = at < 0 ? [] : this.answers.splice(0, at + 1).slice(0, -1);
      const tokens = usageOf(output);
      const input = this.takeInput(runId);
      return Promise.all([
        ...retried.map((a) =>
          this.record(
            reportedOf(a),
            latencyMs,
            'the client could not use this answer and retried',
            null,
            { input },
          ),
        ),
        this.record({ ...tokens, model: modelOf(output) ?? null }, latencyMs, null, null, {
          input,
          output: captureMessageContent() ? outputForSpan(output) : undefined,
        }),
      ]).then(() => undefined);
    });
  }

  override handleLLMError(err: unknown, runId: string): Promise<void> {
    return this.guard(() => {
      const latencyMs = this.latency(runId);
      const message = err instanceof Error ? err.message : String(err);
      // Every answer the call got, each refused (invalid JSON, a schema it breaks...).
      const got = this.answers.splice(0);
      const reported = got.length > 0 ? got.map(reportedOf) : [NOTHING];
      const input = this.takeInput(runId);
      return Promise.all(
        reported.map((r) => this.record(r, latencyMs, message, err, { input })),
      ).then(() => undefined);
    });
  }

  /** Resolves when every call seen so far is written (or kept for later and logged). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private takeInput(runId: string): unknown {
    const input = this.inputs.get(runId);
    this.inputs.delete(runId);
    return input;
  }

  private latency(runId: string): number {
    const start = this.started.get(runId);
    this.started.delete(runId);
    return start === undefined ? 0 : Math.round(performance.now() - start);
  }

  private record(
    reported: Reported,
    latencyMs: number,
    error: string | null,
    cause: unknown,
    content: { input?: unknown; output?: unknown },
  ): Promise<unknown> {
    const o = this.options;
    const tokens = {
      prompt: reported.prompt,
      completion: reported.completion,
      cached: reported.cached,
    };
    const price = priceCall([reported.model, o.describe.model], tokens, o.prices);
    const call: LLMCallRecord = {
      id: randomUUID(),
      tenantId: o.tenantId,
      provider: o.describe.provider,
      model: o.describe.model,
      responseModel: reported.model,
      purpose: o.purpose,
      promptTokens: reported.prompt,
      cachedPromptTokens: Math.min(reported.cached, reported.prompt),
      completionTokens: reported.completion,
      totalTokens: reported.prompt + reported.completion,
      costUsd: price.costUsd,
      priced: price.priced,
      latencyMs,
      error,
      runId: o.runId ?? null,
      taskId: o.taskId ?? null,
      agentId: o.agentId ?? null,
    };
    if (o.spent) o.spent.usd += call.costUsd;
    countModelCall(call, cause);
    spanModelCall(call, this.traceParent, cause, content);
    const done = writeCall(this.write, call, o.log, o.writeRetry);
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      const msg = 'could not read a model call for its record';
      if (this.options.log) this.options.log.warn({ err }, msg);
      else console.warn(`${msg}: ${err}`);
    }
  }
}

const count = (n: unknown): number =>
  typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;

const reportedOf = (a: ServerAnswer): Reported => ({
  prompt: a.prompt,
  completion: a.completion,
  cached: a.cached,
  model: a.model,
});

/** What this file reads of a generation's message (an AIMessage or AIMessageChunk). */
type Answer = {
  id?: string;
  usage_metadata?: {
    input_tokens?: number;
    output_tokens?: number;
    input_token_details?: { cache_read?: number };
  };
  response_metadata?: Record<string, unknown>;
};

/**
 * The generations a call ended with: a stream with no event in it (a proxy's HTML page) ends
 * with an undefined one, which threw here and left the call unrecorded.
 */
const generationsOf = (output: LLMResult) =>
  (output.generations ?? []).flat().filter((g) => g !== undefined && g !== null);

const answers = (output: LLMResult): Answer[] =>
  generationsOf(output)
    .map((g) => (g as Partial<ChatGeneration>).message as Answer | undefined)
    .filter((m): m is Answer => m !== undefined);

/**
 * Tokens of every generation's usage_metadata (cached: input_token_details.cache_read, from
 * OpenAI's usage.prompt_tokens_details.cached_tokens); else llmOutput.tokenUsage; else 0.
 */
export function usageOf(output: LLMResult): { prompt: number; completion: number; cached: number } {
  const usages = answers(output).flatMap((m) => (m.usage_metadata ? [m.usage_metadata] : []));
  if (usages.length > 0) {
    return {
      prompt: usages.reduce((n, u) => n + count(u.input_tokens), 0),
      completion: usages.reduce((n, u) => n + count(u.output_tokens), 0),
      cached: usages.reduce((n, u) => n + count(u.input_token_details?.cache_read), 0),
    };
  }
  const usage = output.llmOutput?.tokenUsage as
    { promptTokens?: number; completionTokens?: number } | undefined;
  return {
    prompt: count(usage?.promptTokens),
    completion: count(usage?.completionTokens),
    cached: 0,
  };
}

/**
 * The model the response names, if any: response_metadata.model_name, or for an answer that
 * invoke() streamed (a callback preferring streaming) its generation's generationInfo, where
 * @langchain/openai puts the last chunk's model.
 */
export function modelOf(output: LLMResult): string | undefined {
  for (const g of generationsOf(output)) {
    const message = (g as Partial<ChatGeneration>).message as Answer | undefined;
    for (const name of [message?.response_metadata?.model_name, g.generationInfo?.model_name]) {
      if (typeof name === 'string' && name.trim() !== '') return name;
    }
  }
  return undefined;
}

/** The completion's id (`chatcmpl-…`), which LangChain keeps as the message's id. */
function responseIdOf(output: LLMResult): string | undefined {
  for (const m of answers(output)) if (typeof m.id === 'string' && m.id !== '') return m.id;
  return undefined;
}

/** A call's messages as the GenAI conventions' `gen_ai.input.messages` lists them. */
function messagesForSpan(messages: BaseMessage[]): unknown {
  return messages.map((m) => ({
    role: m.getType(),
    parts: [{ type: 'text', content: typeof m.content === 'string' ? m.content : m.content }],
  }));
}

/** The answer's text as `gen_ai.output.messages`. */
function outputForSpan(output: LLMResult): unknown {
  return (output.generations?.[0] ?? [])
    .filter((g) => g !== undefined)
    .map((g) => ({
      role: 'assistant',
      parts: [{ type: 'text', content: g.text }],
    }));
}
