/**
 * The scheduler: the engine's loop (poll, back off, sweep, promote, claim, run) and the steps in
 * flight in this process. Its parts live beside it: claim.ts, record.ts, sweep.ts, quarantine.ts,
 * leases.ts.
 */
import { randomUUID } from 'node:crypto';
import { anyPromotable, promotableTasks } from '../../graph/promotion.repository.js';
import { renewLeases } from '../../graph/lease.repository.js';
import { settleableParentOf } from '../../graph/settlement.repository.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { UnavailableError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import { claimSteps, type StartedStep } from './claim.js';
import { mayHandOff } from './hand-off.js';
import type { EngineContext } from './context.js';
import { WorkerStoppingError, type Executor } from './executor.js';
import { PendingWrites } from './pending-writes.js';
import { writeQuarantining } from './quarantine.js';
import { groupCommitOf } from './group-commit.js';
import { recordOutcome, releaseStep, type Attempt, type Outcome } from './record.js';
import { LeaseKeeper } from './leases.js';
import { Cadence } from './cadence.js';
import { attemptIds, stepSpan } from './step-log.js';
import { watchTasks } from './task-watch.js';
import { promoteSteps } from './promote.js';
import { settle, sweep } from './sweep.js';
import { settlingOf } from './parent-settling.js';
import { countClaims } from './engine-metrics.js';
import { context, trace } from '@opentelemetry/api';
import { contextOf, failSpan } from '../tracing/tracer.js';
import { addSource, readySources, runningSources } from '../metrics/metrics.js';
import { countReady, type DispatchedStep } from '../../graph/claim.repository.js';
import type { StepDispatch } from './dispatch.js';

export interface SchedulerOptions {
  uow: UnitOfWork;
  executor: Executor;
  logger: Logger;
  /**
   * Task events: fast aborts of cancelled steps and claims as soon as a step is READY. With the
   * Redis bus these come from every process; in-process, from this one (others notice at their
   * next heartbeat or poll).
   */
  pubsub?: PubSub;
  workerId?: string;
  /** Serve only these tenants' workflows (a dedicated worker); default all. */
  tenantIds?: string[] | null;
  /** Steps this scheduler runs at once. */
  concurrency?: number;
  /** Steps one agent runs at once, across all workers. */
  perAgentLimit?: number;
  /** Steps running at once across all workers. */
  globalLimit?: number;
  leaseMs?: number;
  pollMs?: number;
  /**
   * READY steps handed out through Redis (dispatch.ts): a tick claims those, and searches
   * Neo4j's queue only every `queuePollMs` (for what the dispatch missed). With task events
   * (`pubsub`), PENDING steps are looked for only when an event asks, or every `queuePollMs`.
   */
  dispatch?: StepDispatch;
  queuePollMs?: number;
  stepTimeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  /** An end that made a dependant READY starts the queue's head in its slot (hand-off.ts). */
  handOff?: boolean;
}

/** The longest a scheduler waits between ticks that fail (Neo4j unreachable). */
const MAX_IDLE_BACKOFF_MS = 5_000;

export interface InFlight {
  controller: AbortController;
  done: Promise<void>;
  /** The task's version as this attempt claimed it: older events do not concern it. */
  version: number;
}

/**
 * The durable orchestration loop. All state is in Neo4j, so any number of schedulers (in the
 * API or in `npm run worker` processes) can run against one database:
 * promote PENDING steps whose dependencies ended, claim READY ones under a lease, assign an
 * agent, run the executor (each attempt a :Run), record the outcome, settle parents, and put
 * back the steps of workers that died (expired leases).
 */
export class Scheduler {
  readonly workerId: string;
  private readonly o: Required<Omit<SchedulerOptions, 'pubsub' | 'workerId' | 'dispatch'>> &
    Pick<SchedulerOptions, 'pubsub' | 'dispatch'>;
  private readonly inFlight = new Map<string, InFlight>();
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private readonly sweeps: Cadence;
  private readonly queuePolls: Cadence;
  private readonly promotionScans: Cadence;
  /** A task event asked for a promotion (a PENDING step started or reopened). */
  private promotionAsked = false;
  private events: { stop(): Promise<void> } | undefined;
  /** Takes this scheduler's gauges (running, READY) off the metrics. */
  private unmeter: (() => void)[] = [];
  /** What the scheduler's parts (claim, record, sweep) share with it. */
  private readonly ctx: EngineContext;
  /** The heartbeat of the steps in flight: one statement renews all their leases. */
  private readonly leases: LeaseKeeper;

  constructor(options: SchedulerOptions) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.o = {
      concurrency: 4,
      perAgentLimit: 4,
      globalLimit: 10_000,
      leaseMs: 30_000,
      pollMs: 250,
      queuePollMs: 1_000,
      stepTimeoutMs: 300_000,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      tenantIds: null,
      handOff: true,
      ...options,
    };
    const { uow, logger, tenantIds } = this.o;
    const writer = { uow, logger, workerId: this.workerId };
    const write: EngineContext['write'] = (work) => writeQuarantining(writer, work);
    const ends = groupCommitOf(uow);
    this.ctx = {
      ...writer,
      tenantIds,
      queue: { after: '' },
      write,
      end: (work) => ends.run(work, write),
    };
    this.leases = new LeaseKeeper(
      Math.max(50, this.o.leaseMs / 3),
      // Ahead of step writes waiting for a slot: at 1,000 runs a renewal queued behind them
      // long enough for leases to lapse, and sweeps took running steps back.
      (taskIds) =>
        uow.write((tx) => renewLeases(tx, taskIds, this.workerId, this.o.leaseMs), {
          urgent: true,
        }),
      logger,
    );
    this.sweeps = new Cadence(this.o.leaseMs / 3);
    this.queuePolls = new Cadence(this.o.queuePollMs);
    this.promotionScans = new Cadence(this.o.queuePollMs);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const { uow, tenantIds } = this.o;
    this.unmeter = [
      addSource(runningSources, () => this.inFlight.size),
      addSource(readySources, () => uow.read((tx) => countReady(tx, tenantIds))),
    ];
    this.loop = this.run();
    if (this.o.pubsub) {
      this.events = watchTasks(this.o.pubsub, this.o, {
        inFlight: this.inFlight,
        wake: () => this.wake(),
        askPromotion: () => (this.promotionAsked = true),
      });
    }
  }

  /** Stops claiming; running steps finish (or are aborted with `abort`). */
  async stop({ abort = false } = {}): Promise<void> {
    this.stopped = true;
    for (const unregister of this.unmeter.splice(0)) unregister();
    this.wake();
    await this.events?.stop();
    // A stop is no failure of the step: it is released for another worker (record.ts: releaseStep).
    const abortAll = () => {
      if (abort)
        for (const f of this.inFlight.values())
          f.controller.abort(new WorkerStoppingError(this.workerId));
    };
    abortAll();
    await this.loop;
    // Again while steps remain: an end that began before the stop may have handed one off.
    while (this.inFlight.size > 0) {
      abortAll();
      await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    }
  }

  /** Runs a tick soon instead of waiting for the poll interval (another one, if mid-tick). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  get running(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let unreachable = false;
    while (!this.stopped) {
      this.woken = false; // this tick sees whatever woke us
      try {
        await this.tick();
        failures = 0;
        if (unreachable) {
          unreachable = false;
          this.o.logger.info(
            { worker: this.workerId },
            'the graph is reachable again; scheduling resumes',
          );
        }
      } catch (err) {
        failures++;
        if (!(err instanceof UnavailableError)) {
          this.o.logger.warn({ err, worker: this.workerId }, 'scheduler tick failed; retrying');
        } else if (!unreachable) {
          // Once per outage, not once per poll: the breaker already says why (graph/breaker.ts).
          unreachable = true;
          this.o.logger.warn(
            { err, worker: this.workerId },
            `the graph is unavailable; the scheduler retries with backoff up to ${MAX_IDLE_BACKOFF_MS} ms`,
          );
        }
      }
      if (this.stopped) break;
      // A failing tick waits twice as long each time (up to 5 s), so an outage is not polled hard.
      const waitMs =
        failures === 0
          ? this.o.pollMs
          : Math.max(this.o.pollMs, Math.min(MAX_IDLE_BACKOFF_MS, this.o.pollMs * 2 ** failures));
      if (this.woken && failures === 0) continue; // woken during the tick: tick again
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * One pass: sweep, settle, promote, claim. With dispatch, the steps handed out are claimed
   * first, and Neo4j's queue is searched only every `queuePollMs`. Promotable steps are looked
   * for when a task event asked for it, or every `queuePollMs`: a step's end promotes its own
   * dependants.
   */
  async tick(): Promise<void> {
    if (this.sweeps.due()) await sweep(this.ctx);
    const free = () => (this.stopped ? 0 : this.o.concurrency - this.inFlight.size);
    const { dispatch, tenantIds } = this.o;
    if (dispatch && free() > 0) {
      const sent = await dispatch.take(free(), tenantIds);
      if (sent.length > 0) await this.claim(free(), sent);
    }
    const searching = !dispatch || this.queuePolls.due();
    // Steps' ends promote their own dependants; the look for promotable steps (a read of every
    // PENDING step) runs when a task event asks (task-watch.ts), or every queuePollMs for what
    // events did not say (another process's, without Redis), or every tick without events.
    const scanning = !this.o.pubsub || this.promotionScans.due();
    if (scanning || this.promotionAsked) {
      this.promotionAsked = false;
      for (let round = 0; round < 20; round++) {
        if (!(await this.promote())) break;
      }
    }
    if (searching && free() > 0) await this.claim(free());
  }

  /**
   * Moves PENDING steps whose dependencies ended; returns whether any moved. A tick first looks
   * with a one-round-trip read: it mostly finds nothing, and an empty write costs a begin and a
   * commit more. The write reads again under its locks.
   */
  private async promote(): Promise<boolean> {
    if (!(await this.o.uow.read((tx) => anyPromotable(tx, this.o.tenantIds)))) return false;
    return this.ctx.write(async (tx, emit) => {
      const candidates = await promotableTasks(tx, 200, this.o.tenantIds);
      return (await promoteSteps(tx, emit, candidates)).length > 0;
    });
  }

  /**
   * After a step's end commits (which promoted its dependants): settle its parent if that was
   * the last step (locking the parent inside every step's own transaction made all steps of a
   * plan queue on it), only where the end says it is due.
   */
  private async afterEnd(taskId: string, ended: { isRoot: boolean }): Promise<void> {
    if (ended.isRoot) return;
    const parentId = await this.o.uow.read((tx) => settleableParentOf(tx, taskId));
    if (!parentId) return;
    // Ends asking at once (a group's, at a DAG's tail) share one settle (parent-settling.ts).
    await settlingOf(this.o.uow).settle(parentId, () =>
      this.ctx.write((tx, emit) => settle(tx, emit, parentId)),
    );
  }

  /** Claims from the queue's head, or the `dispatched` steps. */
  private async claim(limit: number, dispatched?: DispatchedStep[]): Promise<void> {
    // The lease runs from the claim's statements, not its commit: no later than this.
    const leasedAt = performance.now();
    const started = await claimSteps(this.ctx, limit, this.o, dispatched);
    countClaims(started);
    for (const step of started) this.execute(step, leasedAt);
  }

  private execute(step: StartedStep, leasedAt: number) {
    const { task, agent, runId, inputs, rootId, capabilities, capability, requirements } = step;
    // Claimed again while an attempt still runs here: that attempt's lease was taken from it
    // (its agent deactivated, say) before its abort event arrived; it must not run on.
    this.inFlight.get(task.id)?.controller.abort(new Error('the task was claimed again'));
    const controller = new AbortController();
    const attempt: Attempt = {
      task,
      agent,
      runId,
      memory: { rootId, capabilities },
      capability,
      requirements,
      startedAt: performance.now(),
      signal: controller.signal,
      writes: new PendingWrites(controller.signal),
      spent: { usd: 0 },
      timeoutMs: this.o.stepTimeoutMs,
    };
    const stopBeating = this.leases.hold(task.id, leasedAt, () =>
      controller.abort(new Error('the task is no longer this worker’s')),
    );
    const timeout = setTimeout(
      () =>
        controller.abort(
          Object.assign(new Error(`step timed out after ${this.o.stepTimeoutMs} ms`), {
            name: 'TimeoutError',
          }),
        ),
      this.o.stepTimeoutMs,
    );
    // The step's span, claim to end, continues the trace of the request that started the
    // workflow, in whichever process runs it (issue 17).
    const parent = contextOf(step.traceparent);
    const span = stepSpan(step, this.workerId, parent, leasedAt);
    const done = context.with(trace.setSpan(parent, span), async () => {
      try {
        const { result, expand } = await this.o.executor({
          task,
          agent,
          run: { id: runId, attempt: task.attempts, spent: attempt.spent },
          inputs,
          signal: controller.signal,
          writes: attempt.writes,
        });
        // An executor that resolved after its abort (it ignored the signal) commits nothing.
        if (controller.signal.aborted) throw controller.signal.reason;
        await this.finish(attempt, { result, expand });
      } catch (err) {
        const reason = controller.signal.aborted ? controller.signal.reason : err;
        failSpan(span, reason);
        await this.finish(attempt, { error: reason }).catch((e: unknown) =>
          this.o.logger.error(
            { err: e, ...attemptIds(attempt, this.workerId) },
            'could not record a failed step; its lease will expire',
          ),
        );
      } finally {
        stopBeating();
        clearTimeout(timeout);
        // The task may run again here already (reassigned while this attempt wound down):
        // forget only this attempt, or the new one could no longer be aborted or counted.
        if (this.inFlight.get(task.id)?.controller === controller) this.inFlight.delete(task.id);
        span.end();
        this.wake();
      }
    });
    this.inFlight.set(task.id, { controller, done, version: task.version });
  }

  /**
   * Records a step's outcome (COMPLETED, a retry after backoff, or FAILED), then what follows:
   * the step handed to its slot (hand-off.ts) runs, and its parent may settle.
   */
  private async finish(a: Attempt, outcome: Outcome): Promise<void> {
    if ('error' in outcome && outcome.error instanceof WorkerStoppingError) {
      await releaseStep(this.ctx, a, outcome.error);
      return;
    }
    const leasedAt = performance.now();
    const handOff = this.o.handOff && !this.stopped && mayHandOff(this.o) ? this.o : undefined;
    const ended = await recordOutcome(this.ctx, a, outcome, this.o.backoff, handOff);
    if (!ended) return;
    countClaims(ended.next);
    for (const step of ended.next) this.execute(step, leasedAt);
    await this.afterEnd(a.task.id, ended);
  }
}
