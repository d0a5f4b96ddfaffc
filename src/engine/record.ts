/**
 * Recording an attempt's end: its outcome (COMPLETED, a retry after backoff, a wait for a
 * budget or for people's decisions on tool calls, or FAILED) and, for a success, the step's queued writes, in one transaction under its
 * lease; or, when its worker stops, the step given back to the queue.
 */
import { markCallsAbandoned } from '../../graph/llm-call.repository.js';
import {
  abandonRun,
  endRun,
  recordPerformance,
  releaseRun,
  type EndedRun,
} from '../../graph/run.repository.js';
import { promotableDependants } from '../../graph/promotion.repository.js';
import { holdForInput } from '../../graph/tool-approval.repository.js';
import type { Agent } from '../domain/agent.js';
import { TaskStatus, isFinished, type Task } from '../domain/task.js';
import { budgetErrorOf } from '../llm/budget.js';
import { budgetVersion, requeueBudgetWaits } from '../../graph/budget.repository.js';
import {
  evaluateRootTask,
  evaluatedEvent,
  recordEvaluation,
  runEvaluation,
} from '../evolution/evaluate/record.js';
import { runResultEpisode } from '../memory/ingest/sources.js';
import { emitTaskEvents, publishTasks } from '../services/task-events.js';
import type { EngineContext } from './context.js';
import { awaitingInputOf } from './awaiting-input.js';
import { isTransient, type WorkerStoppingError } from './executor.js';
import type { PendingWrites } from './pending-writes.js';
import { promoteSteps } from './promote.js';
import type { ClaimLimits, StartedStep } from './claim.js';
import { handOffIn } from './hand-off.js';
import { backoffMs, retryAfterMs } from './retry.js';
import { attemptIds, describeFailure, logOutcome } from './step-log.js';

/** One attempt of a step, as this worker runs it. */
export interface Attempt {
  task: Task;
  agent: Agent;
  runId: string;
  /** On the monotonic clock (`performance.now()`): its latency is a difference of two. */
  startedAt: number;
  signal: AbortSignal;
  writes: PendingWrites;
  /** What its model calls cost as its executor books them (StepContext's `run.spent`). */
  spent: { usd: number };
  /** The step timeout it runs under (scores the objective evaluation); unknown when absent. */
  timeoutMs?: number;
  /** The workflow's root and the agent's capabilities, read when claimed, for its episode. */
  memory?: { rootId: string; capabilities: { name: string; proficiency: number }[] };
  /** The capability the step requires, for the metrics' label. */
  capability?: string;
  /** All it requires, read with the claim: none, and there are no capability statistics. */
  requirements?: string[];
}

export type Outcome = { result: string; expand?: boolean } | { error: unknown };

/**
 * A worker stopping gives its step back: READY, the attempt not counted, the run RELEASED,
 * nothing the step queued committed. A rolling deploy must not fail workflows.
 */
export async function releaseStep(
  ctx: EngineContext,
  a: Attempt,
  reason: WorkerStoppingError,
): Promise<void> {
  const released = await ctx.write(async (tx, emit) => {
    const ended = await releaseRun(tx, {
      taskId: a.task.id,
      runId: a.runId,
      workerId: ctx.workerId,
      reason: reason.message,
    });
    if (!ended) await abandonRun(tx, a.runId, 'the task was no longer this worker’s');
    await markCallsAbandoned(tx, [a.runId]);
    if (ended) await publishTasks(tx, emit, [ended.task], 'STATUS_CHANGED');
    return ended !== null;
  });
  ctx.logger.info(
    { ...attemptIds(a, ctx.workerId), released },
    released
      ? 'step released: the worker is stopping; it goes back to the queue'
      : 'step aborted by the worker stopping, but it was no longer this worker’s',
  );
}

/**
 * Writes the outcome, and for a success the step's queued writes, in one transaction while
 * this worker holds the lease, and promotes the dependants its end unblocked; null when it no
 * longer holds it (then nothing is committed). Otherwise says whether a parent may be due to
 * settle, and which step it claimed for the freed slot (`handOff`, hand-off.ts), if any.
 */
export async function recordOutcome(
  ctx: EngineContext,
  a: Attempt,
  outcome: Outcome,
  backoff: { baseMs: number; maxMs: number },
  handOff?: ClaimLimits,
): Promise<(Pick<EndedRun, 'isRoot'> & { next: StartedStep[] }) | null> {
  const { task, runId } = a;
  const latencyMs = Math.round(performance.now() - a.startedAt);
  const failure = 'error' in outcome ? describeFailure(outcome.error) : null;
  // A spent budget is nobody's fault in the step: it waits for a person to raise the budget
  // or cancel (issue 10), never retried and never FAILED (src/llm/budget.ts).
  const budget = failure === null ? null : budgetErrorOf(failure.error);
  // Tool calls a person must decide: the attempt waits, it did not fail (issue 13).
  const held = failure === null ? null : awaitingInputOf(failure.error);
  const waits = budget !== null || held !== null;
  const retry =
    !waits && failure !== null && isTransient(failure.error) && task.attempts < task.maxAttempts;
  // A server that said when it takes calls again (429 Retry-After) is not asked before then.
  const retryInMs = retry
    ? Math.max(backoffMs(task.attempts, backoff), retryAfterMs(failure.error, backoff.maxMs))
    : null;
  // The run's end numbers the task's event, and reads the dependants it may move (a round trip
  // less), when nothing after it in the transaction changes a task: no queued writes (they
  // may), no expansion, no held tool calls.
  const announce = held === null && ('error' in outcome || (!outcome.expand && a.writes.none));
  // Every ended run is judged on objective signals with its outcome (issue 12), except one that
  // waits (a spent budget is nobody's fault in the step, like its performance below). Its end
  // writes the judgement when the graph's calls cost what the executor booked (a round trip
  // less); else it is written after it, for the cost the end read.
  const signals = {
    status: 'error' in outcome ? ('FAILED' as const) : ('SUCCEEDED' as const),
    attempt: Math.max(1, task.attempts),
    maxAttempts: task.maxAttempts,
    willRetry: retry,
    timedOut: failure?.timedOut ?? false,
    latencyMs,
    timeoutMs: a.timeoutMs ?? null,
  };
  const run = { tenantId: task.tenantId, runId };
  const bookedUsd = a.spent.usd;
  const judged = waits ? null : runEvaluation(run, { ...signals, costUsd: bookedUsd });
  const end = await ctx.end(async (tx, emit, group) => {
    const { workerId } = ctx;
    // The budgets' lock before the step's (as setBudget takes them), and their version now.
    const budgets = budget ? await budgetVersion(tx, task.tenantId) : null;
    const evaluation = judged && { bookedUsd, evaluation: judged };
    const base = {
      taskId: task.id,
      runId,
      workerId,
      latencyMs,
      evaluation,
      announce,
      promote: announce,
    };
    let ended: Awaited<ReturnType<typeof endRun>>;
    if (!('error' in outcome)) {
      // The result becomes an episode of memory, ingested later in the background (issue 11).
      const step = { task, agent: a.agent, runId, ...a.memory };
      const episode = outcome.expand ? null : await runResultEpisode(tx, step, outcome.result);
      ended = await endRun(tx, {
        ...base,
        status: outcome.expand ? TaskStatus.IN_PROGRESS : TaskStatus.COMPLETED,
        runStatus: 'SUCCEEDED',
        // A plan's summary is no answer: the parent's result comes when its steps settle it.
        result: outcome.expand ? null : outcome.result,
        episode,
      });
      // The step's effects commit with its outcome, under its lease, or not at all.
      if (ended) await a.writes.apply(tx, emit);
    } else {
      ended = await endRun(tx, {
        ...base,
        status: held
          ? TaskStatus.AWAITING_INPUT
          : budget
            ? TaskStatus.AWAITING_APPROVAL
            : retry
              ? TaskStatus.READY
              : TaskStatus.FAILED,
        // A wait (a person's decision, a budget) interrupted the attempt: it did not fail.
        runStatus: waits ? 'INTERRUPTED' : 'FAILED',
        error: held
          ? held.message
          : budget
            ? budget.message
            : retry
              ? `attempt ${task.attempts} failed (will retry): ${failure!.message}`
              : failure!.message,
        retryInMs,
      });
      if (ended && held) {
        const hold = { tenantId: task.tenantId, taskId: task.id, runId, calls: held.calls };
        await holdForInput(tx, hold);
      }
    }
    if (!ended) {
      // The lease was lost: whoever holds the task now decides; this run's calls are waste.
      await abandonRun(tx, runId, 'the task was no longer this worker’s when it ended');
      await markCallsAbandoned(tx, [runId]);
      return null;
    }
    // A held attempt's calls are not waste: its checkpoint keeps their answers for the resume.
    if ('error' in outcome && !held) await markCallsAbandoned(tx, [runId]);
    if (judged && ended.evaluated) emit(evaluatedEvent(judged));
    else if (judged) {
      const costUsd = ended.costUsd;
      await recordEvaluation(tx, emit, runEvaluation(run, { ...signals, costUsd }));
    }
    // A root task that ended here (its planning failed, or it ran alone) is judged too.
    const finished = [TaskStatus.COMPLETED, TaskStatus.FAILED].includes(ended.task.status);
    if (finished && ended.isRoot) await evaluateRootTask(tx, emit, task.id);
    // Statistics are kept per required capability: a step that requires none has none to keep.
    if (ended.agentId && !waits && a.requirements?.length !== 0) {
      // After the evaluations above and the step's writes (a judge's): the effective score counts.
      const success = !('error' in outcome);
      const { agentId, costUsd } = ended;
      await recordPerformance(tx, agentId, task.id, success, latencyMs, runId, costUsd);
    }
    // A finished step's dependants move below, with it: nobody needs to look for them.
    const dependantsMoved = isFinished(ended.task.status);
    if (ended.event) emitTaskEvents(emit, [ended.event], 'STATUS_CHANGED', { dependantsMoved });
    else await publishTasks(tx, emit, [ended.task], 'STATUS_CHANGED', { dependantsMoved });
    // A budget set between the call's refusal and now re-queued the steps waiting then, not
    // this one: it goes back to the queue as they did, and checks again at its first call.
    if (budget && budgets !== budget.version) {
      const requeued = await requeueBudgetWaits(tx, task.tenantId, task.id);
      await publishTasks(tx, emit, requeued, 'STATUS_CHANGED');
    }
    // Its dependants move with its end: no state is committed in which the step has ended and
    // a dependant still waits, which every other scheduler's tick raced to promote. The slot it
    // frees starts the queue's head (hand-off.ts); what that starts is published as STARTED.
    let next: StartedStep[] = [];
    const take = handOff
      ? async (ready: Task[]) => {
          const handed = await handOffIn(tx, emit, ctx, handOff, group, ready);
          next = handed.mine;
          return handed.started;
        }
      : undefined;
    if (ended.hasDependants && isFinished(ended.task.status)) {
      const dependants = ended.promotable ?? (await promotableDependants(tx, task.id));
      await promoteSteps(tx, emit, dependants, take);
    } else if (take && group) await take([]);
    return { ended, next };
  });
  logOutcome(ctx, a, outcome, end !== null, { retry, retryInMs, latencyMs });
  return end && { isRoot: end.ended.isRoot, next: end.next };
}
