/**
 * What the engine logs about a step: the ids a line names, one line per step end at the level a
 * person on call needs (and the step's metrics), how a failure is described, and its span.
 */
import { awaitingInputOf } from './awaiting-input.js';
import { budgetErrorOf } from '../llm/budget.js';
import type { EngineContext } from './context.js';
import type { Attempt, Outcome } from './record.js';
import { countStepEnd, type StepOutcomeLabel } from './engine-metrics.js';
import type { StartedStep } from './claim.js';
import { tracer, type Context } from '../tracing/tracer.js';

/** What a log line about an attempt names. */
export function attemptIds(a: Attempt, workerId: string) {
  return {
    tenantId: a.task.tenantId,
    taskId: a.task.id,
    runId: a.runId,
    agentId: a.agent.id,
    attempt: a.task.attempts,
    worker: workerId,
  };
}

/** One line per step end, at the level a person on call needs. */
export function logOutcome(
  ctx: Pick<EngineContext, 'logger' | 'workerId'>,
  a: Attempt,
  outcome: Outcome,
  recorded: boolean,
  o: { retry: boolean; retryInMs: number | null; latencyMs: number },
): void {
  const log = ctx.logger;
  const ids = { ...attemptIds(a, ctx.workerId), latencyMs: o.latencyMs };
  countStepEnd(a.capability ?? 'any', outcomeLabel(outcome, recorded, o.retry), o.latencyMs);
  if (!recorded) {
    const why = a.signal.aborted ? describeFailure(a.signal.reason).message : 'lease lost';
    log[a.signal.aborted ? 'info' : 'warn'](
      { ...ids, reason: why, dropped: a.writes.labels },
      `step ended without its lease (${why}); nothing it wrote is committed`,
    );
    return;
  }
  if (!('error' in outcome)) {
    log.debug({ ...ids, writes: a.writes.labels }, 'step succeeded');
    return;
  }
  const { message, timedOut } = describeFailure(outcome.error);
  const what = timedOut ? 'step timed out' : 'step failed';
  if (budgetErrorOf(outcome.error)) {
    log.warn({ ...ids }, `step waits (AWAITING_APPROVAL) for a budget: ${message}`);
  } else if (awaitingInputOf(outcome.error)) {
    log.info({ ...ids }, `step waits (AWAITING_INPUT): ${message}`);
  } else if (o.retry) {
    log.warn(
      { ...ids, err: outcome.error, retryInMs: o.retryInMs, maxAttempts: a.task.maxAttempts },
      `${what}; will retry: ${message}`,
    );
  } else {
    log.error(
      { ...ids, err: outcome.error, maxAttempts: a.task.maxAttempts },
      `${what}; the task FAILED: ${message}`,
    );
  }
}

function outcomeLabel(outcome: Outcome, recorded: boolean, retry: boolean): StepOutcomeLabel {
  if (!recorded) return 'lost';
  if (!('error' in outcome)) return 'succeeded';
  if (budgetErrorOf(outcome.error) || awaitingInputOf(outcome.error)) return 'waiting';
  return retry ? 'retrying' : 'failed';
}

/** The error a step failed with, its message, and whether it was the step timeout. */
export function describeFailure(error: unknown): {
  error: unknown;
  message: string;
  timedOut: boolean;
} {
  const e = error as { message?: string; name?: string } | undefined;
  return {
    error,
    message: typeof e?.message === 'string' ? e.message : String(error),
    timedOut: e?.name === 'TimeoutError',
  };
}

/**
 * A step attempt's span, from its claim (`leasedAt` on the monotonic clock, taken before the
 * claim's statements) to its end: a child of the span that started its workflow, when there is
 * one.
 */
export function stepSpan(
  { task, agent, runId, capability }: StartedStep,
  workerId: string,
  parent: Context,
  leasedAt: number,
) {
  return tracer.startSpan(
    `step ${capability}`,
    {
      startTime: performance.timeOrigin + leasedAt,
      attributes: {
        'agent_platform.task.id': task.id,
        'agent_platform.task.key': task.key ?? '',
        'agent_platform.run.id': runId,
        'agent_platform.run.attempt': task.attempts,
        'agent_platform.worker.id': workerId,
        'gen_ai.agent.id': agent.id,
      },
    },
    parent,
  );
}
