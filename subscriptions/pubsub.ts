import {
  compareEventIds,
  EventAheadError,
  eventIdOf,
  EventTooOldError,
  parseEventId,
  withEventId,
  type EventId,
} from './event-id.js';
import { createFanout } from './fanout.js';
import { createSequencer, orderOf } from './sequence.js';
import { TOPICS } from './topics.js';

/** What one subscriber receives, decided when an event fans out (before it is buffered). */
export interface SubscribeOptions {
  /** Only events whose payload has this `tenantId`. Unset: every tenant (internal watchers). */
  tenantId?: string;
  /**
   * Runs when the event fans out to subscribers (fanout.ts: the turn after publish() on the
   * in-process bus, as a Redis read returns on the other), before the event enters this
   * subscriber's buffer, so an event it would not send costs it no memory. Keep it cheap; if
   * it throws, that subscriber ends with the error and nobody else notices. It sees the subscriber's events in the order the subscriber
   * gets them, so it may keep state: a resumed one's history first, then the live events that
   * arrived while the history loaded (these wait for it unfiltered, within `maxBuffered`).
   */
  filter?: (payload: unknown) => boolean;
  /** This subscriber's own bound instead of the pub/sub's `maxBufferedEvents`. */
  maxBuffered?: number;
  /**
   * Resume: first the events of this topic (and tenant, and filter) published after this id,
   * then live ones. Needs `tenantId`. The replay (at most what the bus keeps) does not count
   * against `maxBuffered`; live events that arrive meanwhile do.
   */
  after?: EventId | null;
}

/**
 * The pub/sub shared by publishers (after their transaction commits) and subscribers
 * (GraphQL subscriptions, the engine's watchers). type-graphql calls
 * `subscribe(topic, topicId)`; resolvers return SubscribeOptions from `topicId`.
 *
 * Every implementation promises:
 * - **Ids**: every delivered event carries an EventId (event-id.ts, `eventIdOf`), growing within
 *   one tenant's stream; tokens (chatToken, stepToken) have a stream of their own.
 * - **Ordering**: a subscriber sees one topic's events in publish order; no order across topics.
 *   A numbered event (a task's, sequence.ts) goes out only after the event numbered before it,
 *   whichever process publishes which, waiting ORDER_WAIT_MS at most (publish() answers once it
 *   is out): every process's subscribers and every resumed client get a task's transitions in
 *   commit order.
 * - **Resume**: `after` replays what the subscriber missed, then continues live with no gap and
 *   no duplicate. An id whose successors are no longer held ends the subscriber with
 *   EventTooOldError (EVENT_TOO_OLD), one ahead of the stream's newest with EventAheadError
 *   (BAD_USER_INPUT); subscribe() throws BadEventIdError (BAD_USER_INPUT) for one that is not
 *   an id at all.
 * - **Delivery**: each publish() at most once. An event published while a subscriber is
 *   connected reaches it unless the subscriber is ended (overflow, outage); a resumed one gets
 *   what it missed. publish() answers whether the bus holds the event: the outbox (outbox.ts)
 *   keeps committed events until it does, which makes them at-least-once across crashes.
 * - **Filtering first**: `tenantId` (an index) and `filter` run as an event fans out, before
 *   any subscriber buffers it; refused events are never buffered, so one tenant's traffic
 *   costs another tenant's subscribers nothing (a resume's
 *   live events wait for its history before `filter` sees them; `tenantId` still runs first).
 * - **No back-pressure on publishers**: publish() never waits and never throws because of a
 *   subscriber. Each subscriber buffers at most `maxBuffered` undelivered events; the event
 *   after that ends it: its buffer is dropped, it is unsubscribed at once, and its next
 *   `next()` rejects with SubscriptionLimitError (LIMIT_EXCEEDED, `limit: bufferedEvents`),
 *   which graphql-ws sends to the client as that operation's error. Later calls are done.
 * - **return() / throw()**: unsubscribe at once (subscriberCount drops before they resolve),
 *   drop the buffer, and settle a pending `next()` as done. Both may be called repeatedly.
 * - **The bus down** (Redis away; the in-process bus never is): publish() answers false and the
 *   outbox keeps the committed event; tenants' subscribers end with SERVICE_UNAVAILABLE (retry
 *   with `after` once it is back), new ones are refused the same way; the process's own
 *   watchers (revocations, engine wake-ups) stay subscribed and hear the bus again when it
 *   returns; queries and mutations are not affected.
 * - **subscriberCount(topic?)**: live subscribers of a topic, or of every topic; what the
 *   tests measure leaks by (issue 9: completed subscriptions kept receiving events).
 * - **subscriptionsMade()**: subscribe() calls so far, ended or not (only grows): a caller
 *   that starts a subscription elsewhere (a test client) sees when the server has made it.
 */
export interface PubSub {
  /**
   * Hands one event to the bus; never throws, never waits for subscribers. The promise says
   * whether the bus holds the event (in-process: at once, true; Redis: once XADD answered,
   * false when Redis could not be reached). Callers that need not know ignore it.
   */
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<boolean>;
  /** Whether other processes hear what this one publishes (Redis); false in-process. */
  readonly shared: boolean;
  subscribe(topic: string, options?: SubscribeOptions): AsyncIterableIterator<unknown>;
  subscriberCount(topic?: string): number;
  subscriptionsMade(): number;
  /** Stops reading and writing the bus (Redis); ends nothing else. Idempotent. */
  close?(): Promise<void>;
}

export interface PublishOptions {
  /**
   * The caller keeps the event (the outbox, subscriptions/outbox.ts) and publishes it again if
   * this publish fails: the event is then late rather than lost, and a failure marks no gap.
   */
  kept?: boolean;
}

/** Undelivered events a subscriber may hold before it is ended. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 1000;

/** SubscribeOptions for a GraphQL subscription: one tenant's events that `match`. */
export function tenantEvents<T>(
  tenantId: string,
  match: (event: T) => boolean = () => true,
  after?: EventId | null,
): SubscribeOptions {
  return { tenantId, filter: (payload) => match(payload as T), after };
}

/** Events replayable after a restart of the subscriber: kept per tenant and stream. */
export const DEFAULT_REPLAY_EVENTS = 1000;

/** Tokens are many and short-lived: a stream of their own, so they never push events out. */
export function streamOf(topic: string): 'events' | 'tokens' {
  return topic === TOPICS.chatToken || topic === TOPICS.stepToken ? 'tokens' : 'events';
}

/** The tenant an event belongs to (the contract's routing key), or null for internal ones. */
export function tenantOf(payload: unknown): string | null {
  const tenant = (payload as { tenantId?: unknown } | null)?.tenantId;
  return typeof tenant === 'string' ? tenant : null;
}

/**
 * In-process pub/sub: the embedded default, for a single process. Ids are `<start ms>-<n>`:
 * an id from before this process started cannot be replayed (EVENT_TOO_OLD). Each tenant's
 * last `replayEvents` events (and as many tokens) stay in a ring for resuming subscribers.
 */
export function createInProcessPubSub(
  opts: {
    maxBufferedEvents?: number;
    replayEvents?: number;
    /**
     * Hold a task's events for the one before it (sequence.ts); default true. false for a
     * bus that hears only its own process's events (a worker without REDIS_URL), which come
     * in commit order anyway: it would wait for predecessors it never hears.
     */
    ordered?: boolean;
  } = {},
): PubSub {
  const fanout = createFanout(opts.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS);
  const keep = opts.replayEvents ?? DEFAULT_REPLAY_EVENTS;
  const epoch = Date.now();
  let seq = 0;
  const sequencer = createSequencer();
  const rings = new Map<string, Ring>();
  let undelivered: [topic: string, event: unknown][] = [];
  const deliverAll = () => {
    const batch = undelivered;
    undelivered = [];
    for (const [topic, event] of batch) fanout.deliver(topic, event);
  };

  return {
    publish(topic, payload) {
      const order = opts.ordered === false ? null : orderOf(topic, payload);
      if (!order) return send(topic, payload);
      return new Promise((resolve) => sequencer.order(order, () => resolve(send(topic, payload))));
    },
    shared: false,
    subscribe(topic, options = {}) {
      return fanout.subscribe(topic, options, (after) => {
        const [ms, n] = parseEventId(after)!;
        // Every id of this bus begins with its start: a later one was never sent.
        if (ms > epoch || (ms === epoch && n >= seq)) throw new EventAheadError(after);
        if (ms !== epoch || keep === 0) throw new EventTooOldError(after);
        return rings.get(`${streamOf(topic)}:${options.tenantId}`)?.since(topic, after) ?? [];
      });
    },
    subscriberCount: (topic) => fanout.subscriberCount(topic),
    subscriptionsMade: () => fanout.subscriptionsMade(),
  };

  /** Takes its id and ring place now; reaches subscribers once the publisher's turn ends. */
  function send(topic: string, payload: unknown): Promise<boolean> {
    // The id begins with the bus's start (a resume from another run is refused by it).
    const event = withEventId(payload, `${epoch}-${seq++}`, Date.now());
    const tenant = tenantOf(payload);
    if (tenant !== null && keep > 0) {
      const key = `${streamOf(topic)}:${tenant}`;
      const ring = rings.get(key) ?? new Ring(keep);
      rings.set(key, ring);
      ring.push(topic, event);
    }
    // After the publisher's own continuation (a mutation's response): fanning out to
    // thousands of subscribers must not make the change itself slower. Everything published
    // in one turn (a commit's events) is delivered together, in order.
    if (undelivered.length === 0) setImmediate(deliverAll);
    undelivered.push([topic, event]);
    return HELD;
  }
}

const HELD = Promise.resolve(true);

/** The last `size` events of one tenant's stream, oldest first. */
class Ring {
  private readonly entries: { id: EventId; topic: string; event: unknown }[] = [];
  private head = 0;
  /** The newest id that fell out: resuming before it would miss events. */
  private dropped: EventId | null = null;

  constructor(private readonly size: number) {}

  push(topic: string, event: unknown): void {
    const entry = { id: eventIdOf(event)!, topic, event };
    if (this.entries.length < this.size) {
      this.entries.push(entry);
      return;
    }
    this.dropped = this.entries[this.head]!.id;
    this.entries[this.head] = entry;
    this.head = (this.head + 1) % this.size;
  }

  since(topic: string, after: EventId): unknown[] {
    if (this.dropped && compareEventIds(after, this.dropped) < 0) {
      throw new EventTooOldError(after);
    }
    const ordered = [...this.entries.slice(this.head), ...this.entries.slice(0, this.head)];
    return ordered
      .filter((e) => e.topic === topic && compareEventIds(e.id, after) > 0)
      .map((e) => e.event);
  }
}
