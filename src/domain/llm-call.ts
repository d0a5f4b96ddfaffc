/** One model call as the platform records it (an :LLMCall node). */
export interface LLMCallRecord {
  id: string;
  tenantId: string;
  provider: string;
  /** The model that answered (the provider's own name for it when it reports one). */
  model: string;
  /** What the call was for: planning, execution, evaluation... */
  purpose: string;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  /** False when the price table has no entry for the model: the cost is unknown, not 0. */
  priced: boolean;
  latencyMs: number;
  /** Set when the call failed; its tokens are then 0. */
  error: string | null;
  runId: string | null;
  taskId: string | null;
  agentId: string | null;
}

/** Sums over a set of calls. */
export interface LLMUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
}

export const NO_USAGE: Readonly<LLMUsage> = Object.freeze({
  calls: 0,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  costUsd: 0,
});
