/**
 * The memory ingestion queue (issue 11): a loop beside the step scheduler that claims PENDING
 * episodes under a lease (fair across tenants), ingests each (ingest.ts), keeps the lease alive
 * with heartbeats, retries failures with backoff up to maxAttempts, then FAILED, and sweeps
 * expired leases back to PENDING. The agent that produced an episode never waits for it.
 */
import { randomUUID } from 'node:crypto';
import * as repo from '../../../graph/memory/ingest.repository.js';
import type { ClaimedEpisode } from '../../../graph/memory/ingest.repository.js';
import { UnavailableError } from '../../domain/errors.js';
import { BudgetExceededError } from '../../llm/budget.js';
import { backoffMs } from '../../engine/retry.js';
import { Cadence } from '../../engine/cadence.js';
import { ingestEpisode, publishProgress, type IngestDeps, type IngestResult } from './ingest.js';

export interface IngestionQueueOptions extends IngestDeps {
  workerId?: string;
  /** Serve only these tenants (a dedicated worker); default all. */
  tenantIds?: string[] | null;
  /** Episodes ingested at once. */
  concurrency?: number;
  maxAttempts?: number;
  leaseMs?: number;
  pollMs?: number;
  backoff?: { baseMs: number; maxMs: number };
}

/** The abort reason when the queue stops with `abort`: the episode goes back, not failed. */
class QueueStopping extends Error {
  constructor() {
    super('the ingestion queue is stopping; the episode goes back to PENDING');
  }
}

const MAX_IDLE_BACKOFF_MS = 5_000;

export class IngestionQueue {
  readonly workerId: string;
  private readonly o: Required<Omit<IngestionQueueOptions, 'embedder' | 'budgets' | 'pubsub'>> &
    IngestionQueueOptions;
  private readonly inFlight = new Map<
    string,
    { controller: AbortController; done: Promise<void> }
  >();
  /** Set by stop(): no more claims. A queue never started still claims in tick() (tests). */
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** The tenant of the last claim: the next one starts after it. */
  private turn: string | null = null;
  private readonly sweeps: Cadence;

  constructor(options: IngestionQueueOptions) {
    this.workerId = options.workerId ?? `ingest-${randomUUID().slice(0, 8)}`;
    this.o = {
      tenantIds: null,
      concurrency: 2,
      maxAttempts: 3,
      leaseMs: 60_000,
      pollMs: 500,
      backoff: { baseMs: 2_000, maxMs: 60_000 },
      ...options,
      workerId: this.workerId,
    };
    this.sweeps = new Cadence(this.o.leaseMs / 3);
  }

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops claiming; running ingestions finish, or with `abort` go back to PENDING. */
  async stop({ abort = false } = {}): Promise<void> {
    this.stopped = true;
    this.wake();
    if (abort) for (const f of this.inFlight.values()) f.controller.abort(new QueueStopping());
    await this.loop;
    this.loop = undefined;
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
  }

  wake(): void {
    this.wakeUp?.();
  }

  get running(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.tick();
        failures = 0;
      } catch (err) {
        failures++;
        if (!(err instanceof UnavailableError) || failures === 1) {
          this.o.logger.warn({ err, worker: this.workerId }, 'ingestion tick failed; retrying');
        }
      }
      if (this.stopped) break;
      const waitMs =
        failures === 0
          ? this.o.pollMs
          : Math.min(MAX_IDLE_BACKOFF_MS, Math.max(this.o.pollMs, this.o.pollMs * 2 ** failures));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One pass: sweep expired leases now and then, then claim what there is room for. */
  async tick(): Promise<void> {
    if (this.sweeps.due()) await this.sweep();
    const free = this.o.concurrency - this.inFlight.size;
    if (free <= 0 || this.stopped) return;
    const claimed = await this.o.uow.run((tx) =>
      repo.claimEpisodes(tx, this.workerId, free, this.o.leaseMs, this.o.tenantIds, this.turn),
    );
    // The next claim starts after this tenant: slots free one at a time (a round robin).
    if (claimed.length > 0) this.turn = claimed.at(-1)!.episode.tenantId;
    for (const c of claimed) this.execute(c);
  }

  /** Expired leases back to PENDING (or FAILED after the last attempt). */
  async sweep(): Promise<void> {
    await this.o.uow.run(async (tx, emit) => {
      const expired = await repo.expireEpisodeLeases(tx, this.o.maxAttempts, this.o.tenantIds);
      for (const e of expired) {
        if (e.failed && e.documentId) await publishProgress(tx, emit, e.tenantId, e.documentId);
      }
    });
  }

  /** Resolves when nothing is running (tests, the bench). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    }
  }

  private execute(c: ClaimedEpisode): void {
    const controller = new AbortController();
    const id = c.episode.id;
    const beating = setInterval(
      () => {
        this.o.uow
          .run((tx) => repo.renewEpisodeLease(tx, id, this.workerId, this.o.leaseMs))
          .then((ours) => {
            if (!ours) controller.abort(new Error('the episode is no longer this worker’s'));
          })
          .catch((err: unknown) =>
            this.o.logger.warn({ err, episodeId: id }, 'ingestion heartbeat failed'),
          );
      },
      Math.max(50, this.o.leaseMs / 3),
    );
    const done = (async () => {
      try {
        const result = await ingestEpisode(this.o, c, this.workerId, controller.signal);
        this.logDone(c, result);
      } catch (err) {
        await this.failed(c, controller.signal.aborted ? controller.signal.reason : err).catch(
          (e: unknown) =>
            this.o.logger.error(
              { err: e, episodeId: id },
              'could not record a failed ingestion; its lease will expire',
            ),
        );
      } finally {
        clearInterval(beating);
        this.inFlight.delete(id);
        this.wake();
      }
    })();
    this.inFlight.set(id, { controller, done });
  }

  private logDone(c: ClaimedEpisode, r: IngestResult): void {
    const ids = { tenantId: c.episode.tenantId, episodeId: c.episode.id, worker: this.workerId };
    if (!r.committed) {
      this.o.logger.warn(ids, 'ingestion lost its lease before it committed; nothing written');
      return;
    }
    this.o.logger.debug({ ...ids, ...r }, 'episode ingested');
  }

  /** A failed attempt: back to PENDING after backoff, FAILED after the last attempt. */
  private async failed(c: ClaimedEpisode, err: unknown): Promise<void> {
    const { episode } = c;
    if (err instanceof QueueStopping) {
      await this.o.uow.run((tx) => repo.releaseEpisode(tx, episode.id, this.workerId));
      return;
    }
    const calls = Number((err as { modelCalls?: number })?.modelCalls ?? 0);
    // A budget's refusal is no attempt (as for steps): the episode waits until it is raised.
    const waits = err instanceof BudgetExceededError;
    const last = !waits && episode.attempts >= this.o.maxAttempts;
    const retryInMs = waits
      ? this.o.backoff.maxMs
      : last
        ? null
        : backoffMs(episode.attempts, this.o.backoff);
    // A step's "or cancel the work" does not apply: nobody cancels an episode; it is retried.
    const message = waits
      ? `${err.refusal}; the episode is tried again every ${every(this.o.backoff.maxMs)}`
      : err instanceof Error
        ? err.message
        : String(err);
    const ended = await this.o.uow.run(async (tx, emit) => {
      const e = await repo.markAttemptFailed(
        tx,
        episode.id,
        this.workerId,
        message,
        retryInMs,
        calls,
        { counted: !waits },
      );
      if (e && last && c.documentId) await publishProgress(tx, emit, e.tenantId, c.documentId);
      return e;
    });
    this.o.logger.warn(
      {
        err,
        tenantId: episode.tenantId,
        episodeId: episode.id,
        attempt: episode.attempts,
        recorded: ended !== null,
      },
      waits
        ? `episode ingestion waits for a budget; trying again in ${retryInMs} ms`
        : last
          ? `episode ingestion failed after ${episode.attempts} attempt(s)`
          : `episode ingestion failed; retrying in ${retryInMs} ms`,
    );
  }
}

/** An interval as a person says it: "minute", "5 minutes", "30 s". */
function every(ms: number): string {
  if (ms === 60_000) return 'minute';
  return ms % 60_000 === 0 ? `${ms / 60_000} minutes` : `${Math.round(ms / 1000)} s`;
}
