import { randomUUID } from 'node:crypto';
import { writeAuditEvent } from '../../graph/audit.repository.js';
import * as repo from '../../graph/engine.repository.js';
import { MalformedNodeError } from '../../graph/mappers.js';
import { parentOf } from '../../graph/task.repository.js';
import type { Tx } from '../../graph/cypher.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import { AuditOutcome } from '../domain/auth.js';
import type { Agent } from '../domain/agent.js';
import { UnavailableError } from '../domain/errors.js';
import { TaskStatus, type Task } from '../domain/task.js';
import type { Logger } from '../logger.js';
import { publishTasks } from '../services/task-events.js';
import type { Emit, UnitOfWork } from '../services/unit-of-work.js';
import { chooseAgent, needsChiefOfStaff, waitingReason } from './assignment.js';
import { inputsOf, promotion, settlement } from './decisions.js';
import { isTransient, WorkerStoppingError, type Executor } from './executor.js';
import { budgetErrorOf } from '../llm/budget.js';
import { PendingWrites } from './pending-writes.js';
import { markCallsAbandoned } from '../../graph/llm-call.repository.js';
import { backoffMs } from './retry.js';

export interface SchedulerOptions {
  uow: UnitOfWork;
  executor: Executor;
  logger: Logger;
  /** For fast aborts in this process; other processes notice at their next heartbeat. */
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
  stepTimeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
}

/** The longest a scheduler waits between ticks that fail (Neo4j unreachable). */
const MAX_IDLE_BACKOFF_MS = 5_000;

/** Bad rows one transaction may set aside before it gives up (and the tick logs it). */
const MAX_QUARANTINES_PER_WRITE = 20;

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

/** One attempt of a step, as this worker runs it. */
interface Attempt {
  task: Task;
  agent: Agent;
  runId: string;
  startedAt: number;
  signal: AbortSignal;
  writes: PendingWrites;
}

type Outcome = { result: string; expand?: boolean } | { error: unknown };

/**
 * The durable orchestration loop. All state is in Neo4j, so any number of schedulers (in the
 * API or in `npm run worker` processes) can run against one database:
 * promote PENDING steps whose dependencies ended, claim READY ones under a lease, assign an
 * agent, run the executor (each attempt a :Run), record the outcome, settle parents, and put
 * back the steps of workers that died (expired leases).
 */
export class Scheduler {
  readonly workerId: string;
  private readonly o: Required<Omit<SchedulerOptions, 'pubsub' | 'workerId'>> &
    Pick<SchedulerOptions, 'pubsub'>;
  private readonly inFlight = new Map<string, InFlight>();
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private lastSweep = 0;
  private events: AsyncIterableIterator<unknown> | undefined;

  constructor(options: SchedulerOptions) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.o = {
      concurrency: 4,
      perAgentLimit: 4,
      globalLimit: 10_000,
      leaseMs: 30_000,
      pollMs: 250,
      stepTimeoutMs: 300_000,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      tenantIds: null,
      ...options,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
    if (this.o.pubsub) void this.watchCancellations(this.o.pubsub);
  }

  /** Stops claiming; running steps finish (or are aborted with `abort`). */
  async stop({ abort = false } = {}): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.events?.return?.();
    // A stop is no failure of the step: it is released for another worker (see release()).
    if (abort)
      for (const f of this.inFlight.values())
        f.controller.abort(new WorkerStoppingError(this.workerId));
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
  }

  /** Runs a tick soon instead of waiting for the poll interval. */
  wake(): void {
    this.wakeUp?.();
  }

  get running(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let unreachable = false;
    while (!this.stopped) {
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One pass: sweep, settle, promote, claim. */
  async tick(): Promise<void> {
    if (Date.now() - this.lastSweep > this.o.leaseMs / 3) {
      this.lastSweep = Date.now();
      await this.write(async (tx, emit) => {
        const expired = await repo.expireLeases(tx, this.o.tenantIds);
        await publishTasks(tx, emit, expired, 'LEASE_EXPIRED');
        for (const t of expired) await this.settleUpwards(tx, emit, t);
      });
      await this.write(async (tx, emit) => {
        for (const id of await repo.settleableParents(tx, 100, this.o.tenantIds))
          await this.settle(tx, emit, id);
      });
      await this.cancelOrphans();
    }
    for (let round = 0; round < 20; round++) {
      if (!(await this.promote())) break;
    }
    const free = this.o.concurrency - this.inFlight.size;
    if (free > 0 && !this.stopped) await this.claim(free);
  }

  /**
   * Runs work in one transaction. A row the mappers cannot read (MalformedNodeError) used to
   * roll back the whole claim, for every tenant, on every poll (issue 9): now that node is
   * quarantined in a transaction of its own and the work runs again without it.
   */
  private async write<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
    for (let quarantined = 0; ; quarantined++) {
      try {
        return await this.o.uow.run(work);
      } catch (err) {
        if (!(err instanceof MalformedNodeError) || quarantined >= MAX_QUARANTINES_PER_WRITE)
          throw err;
        if (!(await this.quarantine(err))) throw err;
      }
    }
  }

  /** Quarantines the node the error names; logs and announces it the first time. */
  private async quarantine(err: MalformedNodeError): Promise<boolean> {
    if (!err.elementId || (err.label !== 'Task' && err.label !== 'Agent')) return false;
    const { label, elementId, message } = err;
    const done = await this.o.uow.run(async (tx, emit) => {
      const node = await repo.quarantineNode(tx, label, elementId, message);
      if (node?.first) {
        // The tenant's admins read it in auditEvents (operation engine.quarantine).
        if (node.tenantId)
          await writeAuditEvent(tx, {
            tenantId: node.tenantId,
            operation: 'engine.quarantine',
            actor: this.workerId,
            actorKeyId: null,
            targetIds: node.id ? [node.id] : [],
            outcome: AuditOutcome.FAILURE,
            code: `MALFORMED_NODE: ${message}`.slice(0, 1_000),
          });
        emit({
          topic: TOPICS.nodeQuarantined,
          payload: { tenantId: node.tenantId, label, id: node.id, reason: message },
        });
      }
      return node;
    });
    if (done?.first) {
      this.o.logger.error(
        { tenantId: done.tenantId, label, id: done.id, worker: this.workerId, reason: message },
        'quarantined a node the engine cannot read; it is no longer claimed',
      );
    }
    return done !== null;
  }

  /**
   * Cancels steps left waiting under a parent that ended (e.g. a plan committed after its root
   * was cancelled): nothing would ever run them, and every poll would scan them again.
   */
  private async cancelOrphans(): Promise<void> {
    const cancelled = await this.write(async (tx, emit) => {
      const orphans = await repo.orphanedSteps(tx, 200, this.o.tenantIds);
      const changed = await repo.changeStatuses(
        tx,
        orphans.map((o) => ({
          id: o.id,
          from: o.status,
          to: TaskStatus.CANCELLED,
          error: `cancelled: its parent is ${o.parentStatus}`,
        })),
      );
      await publishTasks(tx, emit, changed, 'STATUS_CHANGED');
      return changed;
    });
    if (cancelled.length > 0) {
      this.o.logger.info(
        { worker: this.workerId, taskIds: cancelled.map((t) => t.id) },
        `cancelled ${cancelled.length} step(s) waiting under a parent that had ended`,
      );
    }
  }

  /** Moves PENDING steps whose dependencies ended; returns whether any moved. */
  private promote(after?: string): Promise<boolean> {
    return this.write(async (tx, emit) => {
      const candidates = after
        ? await repo.promotableDependants(tx, after)
        : await repo.promotableTasks(tx, 200, this.o.tenantIds);
      const changes = candidates.map((p) => ({
        id: p.task.id,
        from: TaskStatus.PENDING,
        ...promotion(p),
      }));
      const changed = await repo.changeStatuses(tx, changes);
      await publishTasks(tx, emit, changed, 'STATUS_CHANGED');
      for (const t of changed) {
        if (t.status === TaskStatus.SKIPPED) await this.settleUpwards(tx, emit, t);
      }
      return changed.length > 0;
    });
  }

  /**
   * After a step's end commits: unblock its dependants at once (no waiting for the next poll)
   * and settle its parent if that was the last step. Both are cheap reads when nothing is due;
   * locking the parent inside every step's own transaction made all steps of a plan queue on it.
   */
  private async afterEnd(taskId: string): Promise<void> {
    await this.promote(taskId);
    const parentId = await this.o.uow.read((tx) => repo.settleableParentOf(tx, taskId));
    if (parentId) await this.write((tx, emit) => this.settle(tx, emit, parentId));
  }

  private async claim(limit: number): Promise<void> {
    const started = await this.write(async (tx, emit) => {
      // Counting running steps is a scan; only a finite global limit needs it. Claims under
      // such a limit take one shared lock first, so two workers cannot both count the same
      // free room and each fill it.
      let running = 0;
      if (this.o.globalLimit < 10_000) {
        await repo.lockEngineLimit(tx);
        running = await repo.countRunning(tx, this.o.tenantIds);
      }
      const room = Math.min(limit, this.o.globalLimit - running);
      if (room <= 0) return [];
      const claimed = await repo.claimReadyTasks(
        tx,
        this.workerId,
        room,
        this.o.leaseMs,
        this.o.tenantIds,
      );
      if (claimed.length === 0) return [];
      const tenants = [...new Set(claimed.map((c) => c.task.tenantId))];
      const candidates = await repo.candidateAgents(tx, tenants);
      const runs: {
        task: Task;
        agent: Agent;
        runId: string;
        inputs: ReturnType<typeof inputsOf>;
      }[] = [];
      const starts: repo.RunStart[] = [];
      for (const c of claimed) {
        const pool = candidates.filter((a) => a.agent.tenantId === c.task.tenantId);
        const rule = { chiefOfStaff: needsChiefOfStaff(c.task) };
        const args = [c.requirements, pool, this.o.perAgentLimit, c.assigneeId, rule] as const;
        const choice = chooseAgent(...args);
        if (!choice) {
          const reason = waitingReason(...args);
          await repo.unclaim(tx, c.task.id, this.workerId, reason, this.o.pollMs * 4);
          continue;
        }
        const runId = randomUUID();
        starts.push({ id: runId, taskId: c.task.id, workerId: this.workerId, ...choice });
        const chosen = pool.find((a) => a.agent.id === choice.agentId)!;
        chosen.load++;
        runs.push({ task: c.task, agent: chosen.agent, runId, inputs: inputsOf(c.dependencies) });
      }
      await repo.startRuns(tx, starts);
      await publishTasks(
        tx,
        emit,
        runs.map((r) => r.task),
        'STARTED',
      );
      return runs;
    });
    for (const r of started) this.execute(r.task, r.agent, r.runId, r.inputs);
  }

  private execute(task: Task, agent: Agent, runId: string, inputs: ReturnType<typeof inputsOf>) {
    const controller = new AbortController();
    const attempt: Attempt = {
      task,
      agent,
      runId,
      startedAt: Date.now(),
      signal: controller.signal,
      writes: new PendingWrites(controller.signal),
    };
    const heartbeat = setInterval(
      () => {
        this.o.uow
          .write((tx) => repo.heartbeat(tx, task.id, this.workerId, this.o.leaseMs))
          .then((ours) => {
            if (!ours) controller.abort(new Error('the task is no longer this worker’s'));
          })
          .catch((err: unknown) =>
            this.o.logger.warn({ err, ...this.ids(attempt) }, 'heartbeat failed'),
          );
      },
      Math.max(50, this.o.leaseMs / 3),
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
    const done = (async () => {
      try {
        const { result, expand } = await this.o.executor({
          task,
          agent,
          run: { id: runId, attempt: task.attempts },
          inputs,
          signal: controller.signal,
          writes: attempt.writes,
        });
        // An executor that resolved after its abort (it ignored the signal) commits nothing.
        if (controller.signal.aborted) throw controller.signal.reason;
        await this.finish(attempt, { result, expand });
      } catch (err) {
        const reason = controller.signal.aborted ? controller.signal.reason : err;
        await this.finish(attempt, { error: reason }).catch((e: unknown) =>
          this.o.logger.error(
            { err: e, ...this.ids(attempt) },
            'could not record a failed step; its lease will expire',
          ),
        );
      } finally {
        clearInterval(heartbeat);
        clearTimeout(timeout);
        // The task may run again here already (reassigned while this attempt wound down):
        // forget only this attempt, or the new one could no longer be aborted or counted.
        if (this.inFlight.get(task.id)?.controller === controller) this.inFlight.delete(task.id);
        this.wake();
      }
    })();
    this.inFlight.set(task.id, { controller, done });
  }

  /** What a log line about an attempt names. */
  private ids(a: Attempt) {
    return {
      tenantId: a.task.tenantId,
      taskId: a.task.id,
      runId: a.runId,
      agentId: a.agent.id,
      attempt: a.task.attempts,
      worker: this.workerId,
    };
  }

  /** Records a step's outcome (COMPLETED, a retry after backoff, or FAILED), then what follows. */
  private async finish(a: Attempt, outcome: Outcome): Promise<void> {
    if ('error' in outcome && outcome.error instanceof WorkerStoppingError) {
      await this.release(a, outcome.error);
      return;
    }
    if (await this.record(a, outcome)) await this.afterEnd(a.task.id);
  }

  /**
   * A worker stopping gives its step back: READY, the attempt not counted, the run RELEASED,
   * nothing the step queued committed. A rolling deploy must not fail workflows.
   */
  private async release(a: Attempt, reason: WorkerStoppingError): Promise<void> {
    const released = await this.write(async (tx, emit) => {
      const ended = await repo.releaseRun(tx, {
        taskId: a.task.id,
        runId: a.runId,
        workerId: this.workerId,
        reason: reason.message,
      });
      if (!ended) await repo.abandonRun(tx, a.runId, 'the task was no longer this worker’s');
      await markCallsAbandoned(tx, [a.runId]);
      if (ended) await publishTasks(tx, emit, [ended.task], 'STATUS_CHANGED');
      return ended !== null;
    });
    this.o.logger.info(
      { ...this.ids(a), released },
      released
        ? 'step released: the worker is stopping; it goes back to the queue'
        : 'step aborted by the worker stopping, but it was no longer this worker’s',
    );
  }

  /**
   * Writes the outcome, and for a success the step's queued writes, in one transaction while
   * this worker holds the lease; false when it no longer does (then nothing is committed).
   */
  private async record(a: Attempt, outcome: Outcome): Promise<boolean> {
    const { task, runId } = a;
    const latencyMs = Date.now() - a.startedAt;
    const failure = 'error' in outcome ? describeFailure(outcome.error) : null;
    // A spent budget is nobody's fault in the step: it waits for a person to raise the budget
    // or cancel (issue 10), never retried and never FAILED (src/llm/budget.ts).
    const budget = failure === null ? null : budgetErrorOf(failure.error);
    const retry =
      !budget && failure !== null && isTransient(failure.error) && task.attempts < task.maxAttempts;
    const retryInMs = retry ? backoffMs(task.attempts, this.o.backoff) : null;
    const ended = await this.write(async (tx, emit) => {
      const base = { taskId: task.id, runId, workerId: this.workerId, latencyMs };
      let ended: Awaited<ReturnType<typeof repo.endRun>>;
      if (!('error' in outcome)) {
        ended = await repo.endRun(tx, {
          ...base,
          status: outcome.expand ? TaskStatus.IN_PROGRESS : TaskStatus.COMPLETED,
          runStatus: 'SUCCEEDED',
          result: outcome.result,
        });
        // The step's effects commit with its outcome, under its lease, or not at all.
        if (ended) await a.writes.apply(tx, emit);
      } else {
        ended = await repo.endRun(tx, {
          ...base,
          status: budget
            ? TaskStatus.AWAITING_APPROVAL
            : retry
              ? TaskStatus.READY
              : TaskStatus.FAILED,
          runStatus: 'FAILED',
          error: budget
            ? budget.message
            : retry
              ? `attempt ${task.attempts} failed (will retry): ${failure!.message}`
              : failure!.message,
          retryInMs,
        });
      }
      if (!ended) {
        // The lease was lost: whoever holds the task now decides; this run's calls are waste.
        await repo.abandonRun(tx, runId, 'the task was no longer this worker’s when it ended');
        await markCallsAbandoned(tx, [runId]);
        return null;
      }
      if ('error' in outcome) await markCallsAbandoned(tx, [runId]);
      if (ended.agentId && !budget) {
        await repo.recordPerformance(tx, ended.agentId, task.id, !('error' in outcome), latencyMs);
      }
      await publishTasks(tx, emit, [ended.task], 'STATUS_CHANGED');
      return ended;
    });
    this.logOutcome(a, outcome, ended !== null, { retry, retryInMs, latencyMs });
    return ended !== null;
  }

  /** One line per step end, at the level a person on call needs. */
  private logOutcome(
    a: Attempt,
    outcome: Outcome,
    recorded: boolean,
    o: { retry: boolean; retryInMs: number | null; latencyMs: number },
  ): void {
    const log = this.o.logger;
    const ids = { ...this.ids(a), latencyMs: o.latencyMs };
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

  /** Settles the parent of a step that ended, and its parent in turn. */
  private async settleUpwards(tx: Tx, emit: Emit, task: Task): Promise<void> {
    const parentId = await parentOf(tx, task.tenantId, task.id);
    if (parentId) await this.settle(tx, emit, parentId);
  }

  private async settle(tx: Tx, emit: Emit, parentId: string): Promise<void> {
    const state = await repo.runningParent(tx, parentId);
    if (!state) return;
    const decision = settlement(state);
    if (!decision) return;
    // runningParent locked the children before reading them: what it saw open is still open
    // (or was claimed since, and is cancelled with its run all the same).
    const cancelled = await repo.cancelSubtrees(
      tx,
      decision.cancel,
      `cancelled: ${decision.error}`,
    );
    const [parent] = await repo.changeStatuses(tx, [
      {
        id: parentId,
        from: TaskStatus.IN_PROGRESS,
        to: decision.to,
        result: decision.result ?? null,
        error: decision.error ?? null,
      },
    ]);
    await publishTasks(tx, emit, [...cancelled, ...(parent ? [parent] : [])], 'STATUS_CHANGED');
    if (parent) await this.settleUpwards(tx, emit, parent);
  }

  /** Aborts this worker's steps as soon as their task leaves IN_PROGRESS (cancelled, reassigned). */
  private async watchCancellations(pubsub: PubSub): Promise<void> {
    // Filtered before buffering: a burst of other tasks' events can never overflow this watcher.
    this.events = pubsub.subscribe(TOPICS.taskUpdated, {
      filter: (payload) => this.inFlight.has((payload as TaskUpdatedEvent).task.id),
    });
    for await (const payload of this.events) {
      const { task } = payload as TaskUpdatedEvent;
      const flight = this.inFlight.get(task.id);
      if (flight && task.status !== TaskStatus.IN_PROGRESS) {
        flight.controller.abort(new Error(`the task became ${task.status}`));
      }
    }
  }
}

/** The error a step failed with, its message, and whether it was the step timeout. */
function describeFailure(error: unknown): { error: unknown; message: string; timedOut: boolean } {
  const e = error as { message?: string; name?: string } | undefined;
  return {
    error,
    message: typeof e?.message === 'string' ? e.message : String(error),
    timedOut: e?.name === 'TimeoutError',
  };
}
