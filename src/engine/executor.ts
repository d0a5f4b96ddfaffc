import type { Agent } from '../domain/agent.js';
import type { Task, TaskStatus } from '../domain/task.js';

/** What a dependency left for the steps after it. */
export interface StepInput {
  status: TaskStatus;
  result: string | null;
  /** The result parsed as JSON, or null when it is plain text. */
  output: unknown;
}

export interface StepContext {
  task: Task;
  agent: Agent;
  run: { id: string; attempt: number };
  /** The dependencies' results, by their step key (or id when they have none). */
  inputs: Record<string, StepInput>;
  /** Aborted when the task is cancelled, its agent is taken off it, or the step times out. */
  signal: AbortSignal;
}

export interface StepResult {
  /** Text, or JSON text that later conditions can read as `steps.<key>.output`. */
  result: string;
  /**
   * The step planned subtasks under itself (a Chief of Staff's planning): it becomes their
   * running parent instead of COMPLETED, and settles when they end.
   */
  expand?: boolean;
}

/** Runs one step. The engine records each call as a :Run; executors plug in here. */
export type Executor = (step: StepContext) => Promise<StepResult>;

/** A step failure that says whether trying again may help. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/**
 * Transient errors are retried; permanent ones fail the task at once. A StepError says which;
 * otherwise rate limits, server errors, timeouts and connection resets are transient, and
 * anything else (a bug, a bad input) is permanent.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof StepError) return err.transient;
  const e = err as { status?: number; code?: string; name?: string };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return true;
  if (typeof e?.status === 'number') return e.status === 429 || e.status >= 500;
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ServiceUnavailable'].includes(
    e?.code ?? '',
  );
}

/** Parses a result as JSON when it is JSON. */
export function outputOf(result: string | null): unknown {
  if (result === null) return null;
  try {
    return JSON.parse(result);
  } catch {
    return null;
  }
}

/**
 * The built-in executor until the agent chains exist: it echoes the step and its inputs as
 * JSON after an optional delay, so workflows run end to end on a fresh machine.
 */
export function echoExecutor(delayMs = 0): Executor {
  return async ({ task, agent, inputs, signal }) => {
    if (delayMs > 0) await abortableSleep(delayMs, signal);
    return {
      result: JSON.stringify({
        step: task.key ?? task.id,
        title: task.title,
        by: agent.name,
        inputs: Object.keys(inputs),
      }),
    };
  };
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
