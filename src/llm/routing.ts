import { TaskPriority } from '../domain/task.js';

/** What a model call is for; each purpose may have its own model (LLM_MODEL_<PURPOSE>). */
export type Purpose =
  | 'planning'
  | 'execution'
  | 'evaluation'
  | 'extraction'
  | 'synthesis'
  | 'chat'
  /** Memory ingestion (issue 11): entity and fact extraction, and the contradiction judge. */
  | 'memory'
  /** Learning (issue 12): lessons from judged runs, revised agent instructions. */
  | 'reflection';

export const PURPOSES: readonly Purpose[] = Object.freeze([
  'planning',
  'execution',
  'evaluation',
  'extraction',
  'synthesis',
  'chat',
  'memory',
  'reflection',
]);

/**
 * The marker a chain puts in its system prompt, e.g. `[[purpose:planning]]`. Real models read
 * past it; the offline model chooses its behaviour from it.
 */
export function purposeMarker(purpose: Purpose): string {
  return `[[purpose:${purpose}]]`;
}

/** The purpose named by the first marker in `text`, or undefined when there is none. */
export function purposeIn(text: string): Purpose | undefined {
  const named = /\[\[purpose:([a-z]+)\]\]/.exec(text)?.[1];
  return PURPOSES.find((purpose) => purpose === named);
}

/** The model settings routing needs (a slice of LlmConfig). */
export interface ModelRouting {
  /** LLM_MODEL: the default for every purpose. */
  model: string;
  /** LLM_MODEL_<PURPOSE> overrides. */
  purposeModels: Partial<Record<Purpose, string>>;
  /** LLM_MODEL_LOW_PRIORITY: execution of LOW-priority steps. */
  lowPriorityModel?: string;
}

export interface ModelRequest {
  purpose: Purpose;
  /** The step's priority; only execution looks at it. */
  priority?: TaskPriority | `${TaskPriority}`;
  /** The agent's own model (Agent.model); wins over every setting when non-empty. */
  agentModel?: string | null;
  /** The agent version's sampling temperature (issue 12); null or absent: the provider's. */
  temperature?: number | null;
}

/**
 * The model name for one call: the agent's own model; else, for a LOW-priority step's
 * execution, LLM_MODEL_LOW_PRIORITY when set; else the purpose's model; else LLM_MODEL.
 */
export function modelFor(request: ModelRequest, routing: ModelRouting): string {
  const own = request.agentModel?.trim();
  if (own) return own;
  if (
    request.purpose === 'execution' &&
    request.priority === TaskPriority.LOW &&
    routing.lowPriorityModel
  ) {
    return routing.lowPriorityModel;
  }
  return routing.purposeModels[request.purpose] ?? routing.model;
}
