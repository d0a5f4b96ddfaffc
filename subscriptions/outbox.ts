import { randomUUID } from 'node:crypto';
import { withoutDeadline } from '../graph/deadline.js';
import type { Graph } from '../graph/graph.js';
import type { Tx } from '../graph/cypher.js';
import {
  claimOutbox,
  claimOutboxFor,
  deleteOutbox,
  expireOutbox,
  outboxDue,
  writeOutbox,
  type NewOutboxRow,
} from '../graph/outbox.repository.js';
import { Cadence } from '../src/engine/cadence.js';
import type { Logger } from '../src/logger.js';
import { decodeEvent, encodeEvent } from './event-json.js';
import { tenantOf, type PubSub } from './pubsub.js';

/** An event as its transaction emitted it. */
export interface OutboxEvent {
  topic: string;
  payload: unknown;
}

export interface OutboxOptions {
  graph: Graph;
  bus: PubSub;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** This process, in the rows it writes and the claims it makes. */
  owner?: string;
  /**
   * 'publish': this process publishes its events itself and deletes them once the bus holds
   * them (a shared bus: Redis). 'handoff': its bus reaches no other process (a worker without
   * REDIS_URL), so its events stay for an API process's relay to publish there.
   */
  mode: 'publish' | 'handoff';
  /**
   * How long the writer holds its events before a relay may publish them
   * (EVENT_RELAY_AFTER_MS): what a crash between commit and publish delays them by.
   */
  holdMs?: number;
}

export interface RelayOptions {
  /** Also publish events handed off by processes without a shared bus (API processes). */
  handoffs: boolean;
  /** How often the relay looks. */
  intervalMs: number;
  /** Only these tenants' events (unset: every tenant's). */
  tenantIds?: string[] | null;
}

/** EVENT_RELAY_AFTER_MS's default: a writer normally deletes its events within 100 ms. */
export const DEFAULT_RELAY_AFTER_MS = 10_000;
/** Events published or deleted per statement, and claimed per round of the relay. */
const BATCH = 500;
/**
 * How long a relay's claim lasts unless renewed: the relay renews it while its publishes are
 * under way, so a relay that dies mid-round holds its events this long at most.
 */
const CLAIM_MS = 5_000;
/** Events nobody published within a day are dropped (a bus away that long; logged). */
const EXPIRE_MS = 24 * 60 * 60_000;
/** Published ids waiting for deletion, at most: past that the oldest are left to expire. */
const MAX_PENDING_DELETES = 50_000;
/** How soon a writer tries again to publish what the bus refused. */
const RETRY_MS = 500;

type Queued = { id: string; event: OutboxEvent };

/**
 * The outbox: a transaction's events are written beside its change (write(), one statement),
 * so a change and its event never diverge. After the commit the writer publishes them, in
 * commit order, and deletes in batches what the bus holds; what the bus refused (Redis away)
 * it keeps, in order, and publishes again until the bus takes it, holding its rows meanwhile.
 * Rows whose writer stopped holding them (it was killed between commit and publish) a relay
 * publishes once `holdMs` has passed; handed-off rows (a worker without a shared bus) an API
 * process's relay publishes at once.
 *
 * Contract:
 * - **Delivery**: every committed event reaches the bus at least once while its writer lives
 *   or some process runs a relay (within `holdMs` + the relay's interval of a crash). A
 *   duplicate needs a writer that could not renew its hold (Neo4j away), or whose publish hung
 *   without failing (Redis stalled), for longer than `holdMs`.
 * - **Order**: one process's events reach the bus in commit order, across an outage too, and
 *   a task's events in commit order whoever wrote them (the bus holds one until the task's
 *   event before it is out, ORDER_WAIT_MS at most: sequence.ts). A relayed event (its writer
 *   died) comes late, after events published after it; so may one process's backlog against
 *   another's after an outage. Resuming clients get them all.
 * - **Idempotence**: write() mints fresh ids on each attempt of a retried transaction; only the
 *   committed attempt's rows exist. Claims are exclusive (claimOutbox); a relay renews its
 *   claim while it publishes, and it lapses within CLAIM_MS of the relay's death. A relay never
 *   takes its own process's rows: its writer still has them queued.
 * - **Back-pressure**: none on writers. While the bus is away the backlog is memory here and
 *   rows in Neo4j; at most MAX_PENDING_DELETES published ids wait while Neo4j is away.
 */
export class Outbox {
  readonly owner: string;
  private readonly holdMs: number;
  private queue: Queued[] = [];
  private draining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Renews the hold on a backlog the bus refused, every third of `holdMs`. */
  private readonly holds: Cadence;
  private pendingDeletes: string[] = [];
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private relayTimer: NodeJS.Timeout | null = null;
  private relaying: Promise<void> | null = null;
  private stopped = false;
  private readonly expiries = new Cadence(60_000);

  constructor(private readonly opts: OutboxOptions) {
    this.owner = opts.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.holdMs = opts.holdMs ?? DEFAULT_RELAY_AFTER_MS;
    this.holds = new Cadence(this.holdMs / 3);
  }

  /** Writes the transaction's events in it; returns the rows to hand to published(). */
  async write(tx: Tx, events: readonly OutboxEvent[]): Promise<NewOutboxRow[]> {
    if (events.length === 0) return [];
    const rows = events.map((e, seq) => ({
      id: randomUUID(),
      tenantId: tenantOf(e.payload),
      event: encodeEvent(e.topic, e.payload),
      seq,
      owner: this.owner,
      handoff: this.opts.mode === 'handoff',
    }));
    await writeOutbox(tx, rows, this.holdMs);
    return rows;
  }

  /**
   * After the commit, in commit order. Handed-off events go to this process's own bus only
   * (its watchers); the rows stay for a relay. Otherwise they join the queue to the bus.
   */
  published(rows: readonly NewOutboxRow[], events: readonly OutboxEvent[]): void {
    if (this.opts.mode === 'handoff') {
      for (const e of events) void this.opts.bus.publish(e.topic, e.payload);
      return;
    }
    events.forEach((event, i) => this.queue.push({ id: rows[i]!.id, event }));
    // The publishes, retries, holds and deletes outlive the request that committed: under its
    // deadline, once passed, they failed, and a relay published the backlog a second time.
    withoutDeadline(() => void this.drain());
  }

  /** Events committed and not yet held by the bus (for tests and shutdown). */
  get backlog(): number {
    return this.queue.length;
  }

  /**
   * Publishes the queue in order, a batch at a time (pipelined on the bus's connection). The
   * first event the bus refuses stops the batch: it and all after it wait for the retry.
   */
  private drain(): Promise<void> {
    if (this.draining) return this.draining;
    this.draining = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, BATCH);
        const held = await Promise.all(
          batch.map((q) => this.opts.bus.publish(q.event.topic, q.event.payload, { kept: true })),
        );
        const taken = held.indexOf(false) === -1 ? batch.length : held.indexOf(false);
        this.queue.splice(0, taken);
        for (const q of batch.slice(0, taken)) this.deleteLater(q.id);
        if (taken < batch.length) {
          if (this.stopped) return; // the rows stay held until a relay takes them
          this.holdBacklog();
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = null;
            void this.drain();
          }, RETRY_MS).unref();
          return;
        }
      }
    })().finally(() => (this.draining = null));
    return this.draining;
  }

  /** While the bus refuses them, keeps this process's hold on its backlog's rows. */
  private holdBacklog(): void {
    if (!this.holds.due()) return;
    const ids = this.queue.map((q) => q.id);
    void this.opts.graph
      .write((tx) => claimOutboxFor(tx, ids, this.holdMs))
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not hold unpublished events'));
  }

  /** Starts the relay (see the class comment); stop() ends it. */
  startRelay(relay: RelayOptions): void {
    const round = () => {
      this.relayTimer = null;
      if (this.stopped) return;
      this.relaying = this.relayOnce(relay)
        .then(() => undefined)
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'outbox relay round failed'))
        .finally(() => {
          this.relaying = null;
          if (!this.stopped) this.relayTimer = setTimeout(round, relay.intervalMs).unref();
        });
    };
    this.relayTimer = setTimeout(round, relay.intervalMs).unref();
  }

  /**
   * One round: claims what is due, publishes it in order and deletes what the bus holds. Stops
   * at the first event the bus refuses and gives the rest back for a later round (of any
   * relay). Returns how many were published.
   */
  async relayOnce(relay: Omit<RelayOptions, 'intervalMs'>): Promise<number> {
    await this.expire();
    const scope = {
      claimant: this.owner,
      handoffs: relay.handoffs,
      tenants: relay.tenantIds ?? null,
    };
    if (!(await this.opts.graph.readAutoCommit((tx) => outboxDue(tx, scope)))) return 0;
    const claimed = await this.opts.graph.write((tx) =>
      claimOutbox(tx, { ...scope, leaseMs: CLAIM_MS, limit: BATCH }),
    );
    let published = 0;
    // Renews the claim on what is not yet published while the bus is slow (Redis stalled).
    let renewing: Promise<void> = Promise.resolve();
    const renew = setInterval(() => {
      const ids = claimed.slice(published).map((r) => r.id);
      renewing = this.opts.graph
        .write((tx) => claimOutboxFor(tx, ids, CLAIM_MS))
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not renew a relay claim'));
    }, CLAIM_MS / 3).unref();
    try {
      for (const row of claimed) {
        const { topic, payload } = decodeEvent(row.event);
        if (!(await this.opts.bus.publish(topic, payload, { kept: true }))) break;
        published++;
      }
    } finally {
      clearInterval(renew);
      await renewing;
    }
    const done = claimed.slice(0, published).map((r) => r.id);
    const left = claimed.slice(published).map((r) => r.id);
    await this.opts.graph.write(async (tx) => {
      if (done.length) await deleteOutbox(tx, done);
      if (left.length) await claimOutboxFor(tx, left, 0);
    });
    return published;
  }

  /** Stops the relay and the retries, and deletes what was published; safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.relayTimer) clearTimeout(this.relayTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.relaying;
    await this.draining;
    await this.flush();
  }

  private deleteLater(id: string): void {
    this.pendingDeletes.push(id);
    if (this.pendingDeletes.length > MAX_PENDING_DELETES) this.pendingDeletes.shift();
    if (this.pendingDeletes.length >= BATCH) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), 100).unref();
  }

  /** Deletes the published events, one statement per batch; on failure they wait for the next. */
  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      while (this.pendingDeletes.length > 0) {
        const batch = this.pendingDeletes.splice(0, BATCH);
        try {
          await this.opts.graph.write((tx) => deleteOutbox(tx, batch));
        } catch (err) {
          this.pendingDeletes.unshift(...batch);
          this.opts.logger.warn({ err }, 'published events not yet deleted from the outbox');
          if (!this.stopped) this.flushTimer = setTimeout(() => void this.flush(), 1_000).unref();
          return;
        }
      }
    })().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Once a minute: drops events older than a day, which no bus took (logged). */
  private async expire(): Promise<void> {
    if (!this.expiries.due()) return;
    const n = await this.opts.graph.write((tx) => expireOutbox(tx, EXPIRE_MS, 10_000));
    if (n > 0) this.opts.logger.warn(`Dropped ${n} event(s) no bus took within a day (outbox)`);
  }
}
