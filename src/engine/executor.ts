import type { Agent } from '../domain/agent.js';
import { causeChain, networkCode, type ErrorLike } from '../domain/error-causes.js';
import { UnavailableError } from '../domain/errors.js';
import type { Task, TaskStatus } from '../domain/task.js';
import type { StepWrites } from './pending-writes.js';

export type { StepWrite, StepWrites } from './pending-writes.js';

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
  run: {
    id: string;
    attempt: number;
    /**
     * Where the model calls of this attempt book their cost (USD) as they are made: the
     * platform's recorder does (src/llm/accounting.ts). The run's objective evaluation is
     * written with its end when the recorded calls cost this much, else in a statement after it
     * for what they cost: booking saves a round trip, it never decides the cost.
     */
    spent?: { usd: number };
  };
  /** The dependencies' results, by their step key (or id when they have none). */
  inputs: Record<string, StepInput>;
  /**
   * Aborted when the task is cancelled, its agent is taken off it, its lease is lost, the step
   * times out, or the worker stops (then `signal.reason` is a WorkerStoppingError).
   */
  signal: AbortSignal;
  /** Where the step queues its graph writes: committed with its outcome, under its lease. */
  writes: StepWrites;
}

export interface StepResult {
  /** Text, or JSON text that later conditions can read as `steps.<key>.output`. */
  result: string;
  /**
   * The step planned subtasks under itself (a Chief of Staff's planning): it becomes their
   * running parent instead of COMPLETED, and settles when they end. Its `result` (the plan's
   * summary) is not kept: the task's result is the answer its steps settle it with.
   */
  expand?: boolean;
}

/**
 * Runs one step; the engine records each call as a :Run. The contract, both ways:
 *
 * The executor
 * - honours `signal`: passes it to every model call, tool and wait, and settles (rejects)
 *   soon after it aborts;
 * - writes nothing to the platform's graph except through `writes` (plan, subtasks, messages,
 *   knowledge, tools' effects): no transaction of its own, so nothing is written after an abort
 *   (`writes.add` throws then). Reads are fine, but a read never sees the step's own queued
 *   writes (search_knowledge does not find what record_knowledge queued in the same step);
 * - is idempotent per attempt: ids derive from the task, and from the run where two attempts
 *   must not collide (a REPORT is per run), so a write repeated by a retried transaction
 *   MERGEs onto itself.
 * The exceptions are written at once by the runtime, whatever becomes of the attempt: records
 * of what already happened outside the graph (each model call as an :LLMCall, since money was
 * spent, marked `abandoned` when its attempt does not succeed; each call to an outside MCP
 * server or A2A agent as a :ToolCall, its id from the run and the call; a budget's warning),
 * and checkpoints (src/agents/checkpoint), fenced by the run being RUNNING, from which a later
 * attempt resumes.
 *
 * The engine
 * - commits the queued writes in the transaction that records a successful outcome
 *   (COMPLETED, or IN_PROGRESS for a step that expanded into a plan), only if this worker
 *   still holds the lease (a transaction other steps' ends may share: group-commit.ts, and
 *   that may start the queue's head in the slot it frees: hand-off.ts); events they emit are
 *   published after that commit, so a dependant never runs before its dependency's end and
 *   writes are committed;
 * - commits none of them when the executor throws, when the signal aborted (even if the
 *   executor resolved anyway), or when the lease was lost;
 * - on a worker stop, releases the step (READY again, the attempt not counted) instead of
 *   failing it.
 */
export type Executor = (step: StepContext) => Promise<StepResult>;

/**
 * The abort reason when a scheduler stops with `abort`: the step is released for another
 * worker, not failed. Executors need not handle it apart from honouring the signal.
 */
export class WorkerStoppingError extends Error {
  constructor(workerId: string) {
    super(`worker ${workerId} is stopping; the step goes back to the queue`);
    this.name = 'WorkerStoppingError';
  }
}

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
 * otherwise rate limits, server errors, timeouts, connections refused, reset or dropped, a DNS
 * server that did not answer and a busy or unreachable graph database are transient, and
 * anything else (a bug, a bad input, an unknown host) is permanent. The first error of the
 * chain (the error, then its causes) that says either decides.
 */
export function isTransient(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const verdict = transientVerdict(e);
    if (verdict !== null) return verdict;
  }
  return false;
}

/** What one error of a chain (not its causes) says of another try, or null when nothing. */
function transientVerdict(e: ErrorLike): boolean | null {
  if (e instanceof StepError) return e.transient;
  if (e instanceof UnavailableError) return true;
  // Neo4j's transient errors (a deadlock, a lock timeout) that its retries did not get past.
  const { retriable } = e as { retriable?: unknown };
  if (typeof retriable === 'boolean') return retriable;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (typeof e.status === 'number') return e.status === 429 || e.status >= 500;
  if (e.code === 'ServiceUnavailable') return true; // the graph database's driver
  const network = networkCode(e.code);
  return network === 'timeout' || network === 'dropped' ? true : null;
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
