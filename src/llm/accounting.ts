import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { BaseMessage } from '@langchain/core/messages';
import type { ChatGeneration, LLMResult } from '@langchain/core/outputs';
import { randomUUID } from 'node:crypto';
import type { Tx } from '../../graph/cypher.js';
import { recordLLMCall } from '../../graph/llm-call.repository.js';
import type { LLMCallRecord } from '../domain/llm-call.js';
import { costUsd, type PriceTable } from './pricing.js';

type Write = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

export interface LLMCallRecorderOptions {
  /** Where calls are written, each in its own transaction: a Graph or UnitOfWork, or its write. */
  store: { write: Write } | Write;
  tenantId: string;
  purpose: string;
  /** The platform's :Run this call belongs to; links the call and supplies task and agent. */
  runId?: string | null;
  taskId?: string | null;
  agentId?: string | null;
  prices: PriceTable;
  /** The configured provider and model (describeModel()); a model the response names wins. */
  describe: { provider: string; model: string };
  /** Where failed writes are reported; console.warn when unset. */
  log?: { warn(obj: object, msg: string): void };
}

type Tokens = { prompt: number; completion: number };

/**
 * A LangChain callback that records every model call it sees as an :LLMCall: tokens from the
 * message's usage_metadata (else llmOutput.tokenUsage), the model the response names
 * (OpenRouter's `openrouter/auto` reports the real one, which is what gets priced), latency and
 * cost. A failed call is recorded with `error` and zero tokens. Writes happen in the background,
 * each in its own transaction; `flush()` waits for them. It never throws into the model call.
 */
export class LLMCallRecorder extends BaseCallbackHandler {
  name = 'llm_call_recorder';
  private readonly started = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly write: Write;

  constructor(private readonly options: LLMCallRecorderOptions) {
    // Awaited by LangChain, so the write is queued before invoke() returns; the handlers
    // themselves only queue it and return at once.
    super({ _awaitHandler: true });
    const { store } = options;
    this.write = typeof store === 'function' ? store : (work) => store.write(work);
  }

  override handleLLMStart(_llm: Serialized, _prompts: string[], runId: string): void {
    this.started.set(runId, Date.now());
  }

  override handleChatModelStart(_llm: Serialized, _messages: BaseMessage[][], runId: string): void {
    this.started.set(runId, Date.now());
  }

  // Returned (and so awaited, see _awaitHandler): a step's totals are complete when it ends.
  override handleLLMEnd(output: LLMResult, runId: string): Promise<void> {
    return this.guard(() => {
      const tokens = usageOf(output);
      const model = modelOf(output) ?? this.options.describe.model;
      return this.record(runId, model, tokens, null);
    });
  }

  override handleLLMError(err: unknown, runId: string): Promise<void> {
    return this.guard(() => {
      const message = err instanceof Error ? err.message : String(err);
      return this.record(runId, this.options.describe.model, { prompt: 0, completion: 0 }, message);
    });
  }

  /** Resolves when every call seen so far is written (or its write has failed and been logged). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private record(
    runId: string,
    model: string,
    tokens: Tokens,
    error: string | null,
  ): Promise<void> {
    const start = this.started.get(runId);
    this.started.delete(runId);
    const o = this.options;
    const price = costUsd(model, tokens.prompt, tokens.completion, o.prices);
    const call: LLMCallRecord = {
      id: randomUUID(),
      tenantId: o.tenantId,
      provider: o.describe.provider,
      model,
      purpose: o.purpose,
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
      totalTokens: tokens.prompt + tokens.completion,
      costUsd: price.costUsd,
      priced: price.priced,
      latencyMs: start === undefined ? 0 : Math.max(0, Date.now() - start),
      error,
      runId: o.runId ?? null,
      taskId: o.taskId ?? null,
      agentId: o.agentId ?? null,
    };
    const done = this.write((tx) => recordLLMCall(tx, call)).catch((e: unknown) =>
      this.warn(e, `could not record the ${o.purpose} call to ${model}`),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.warn(e, 'could not read a model call for its record');
    }
  }

  private warn(error: unknown, msg: string): void {
    const err = error instanceof Error ? error.message : String(error);
    if (this.options.log) this.options.log.warn({ err }, msg);
    else console.warn(`${msg}: ${err}`);
  }
}

const count = (n: unknown): number =>
  typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;

/** What this file reads of a generation's message (an AIMessage or AIMessageChunk). */
type Answer = {
  usage_metadata?: { input_tokens?: number; output_tokens?: number };
  response_metadata?: Record<string, unknown>;
};

const answers = (output: LLMResult): Answer[] =>
  output.generations
    .flat()
    .map((g) => (g as Partial<ChatGeneration>).message as Answer | undefined)
    .filter((m): m is Answer => m !== undefined);

/** Tokens of every generation's usage_metadata; else llmOutput.tokenUsage; else 0. */
export function usageOf(output: LLMResult): Tokens {
  const usages = answers(output).flatMap((m) => (m.usage_metadata ? [m.usage_metadata] : []));
  if (usages.length > 0) {
    return {
      prompt: usages.reduce((n, u) => n + count(u.input_tokens), 0),
      completion: usages.reduce((n, u) => n + count(u.output_tokens), 0),
    };
  }
  const usage = output.llmOutput?.tokenUsage as
    { promptTokens?: number; completionTokens?: number } | undefined;
  return { prompt: count(usage?.promptTokens), completion: count(usage?.completionTokens) };
}

/** The model the response names (response_metadata.model_name), if any. */
export function modelOf(output: LLMResult): string | undefined {
  for (const m of answers(output)) {
    const name = m.response_metadata?.model_name;
    if (typeof name === 'string' && name.trim() !== '') return name;
  }
  return undefined;
}
