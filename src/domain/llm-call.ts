/** One model call as the platform records it (an :LLMCall node). */
export interface LLMCallRecord {
  id: string;
  tenantId: string;
  provider: string;
  /** The model the platform asked for (LLM_MODEL, a purpose's model or the agent's own). */
  model: string;
  /**
   * The model the server says answered (OpenRouter's `openrouter/auto` names the real one; a
   * local server names its weights file); null when the server named none or never answered.
   */
  responseModel: string | null;
  /** What the call was for: planning, execution, evaluation... */
  purpose: string;
  /** Every prompt token the server reported, cached ones included. */
  promptTokens: number;
  /** The part of promptTokens the server read from its prompt cache (priced lower). */
  cachedPromptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  /** False when the price table has neither model name: the cost is unknown, not 0. */
  priced: boolean;
  latencyMs: number;
  /**
   * Set when the call failed. A call that reached the model and got an answer it could not use
   * (invalid JSON, a schema mismatch) still has the tokens the server reported.
   */
  error: string | null;
  runId: string | null;
  taskId: string | null;
  /**
   * The agent whose model call this was. Usually the run's agent; for `ask_agent` it is the
   * expert who answered, while the call stays booked on the asker's run (see llm-usage docs).
   */
  agentId: string | null;
}

/** Sums over a set of calls. */
export interface LLMUsage {
  calls: number;
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  /** Calls whose model the price table does not know: costUsd counts them as 0. */
  unpricedCalls: number;
}

export const NO_USAGE: Readonly<LLMUsage> = Object.freeze({
  calls: 0,
  promptTokens: 0,
  cachedPromptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  costUsd: 0,
  unpricedCalls: 0,
});
