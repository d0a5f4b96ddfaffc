import { subscriberOverflow } from './errors.js';

/** What one subscriber receives, decided when an event is published (before it is buffered). */
export interface SubscribeOptions {
  /** Only events whose payload has this `tenantId`. Unset: every tenant (internal watchers). */
  tenantId?: string;
  /**
   * Runs inside publish(), before the event is buffered, so an event this subscriber would
   * not send costs it no memory. Keep it cheap; if it throws, that subscriber ends with the
   * error and nobody else notices.
   */
  filter?: (payload: unknown) => boolean;
  /** This subscriber's own bound instead of the pub/sub's `maxBufferedEvents`. */
  maxBuffered?: number;
}

/**
 * The pub/sub shared by publishers (after their transaction commits) and subscribers
 * (GraphQL subscriptions, the engine's watchers). type-graphql calls
 * `subscribe(topic, topicId)`; resolvers return SubscribeOptions from `topicId`.
 *
 * Every implementation promises:
 * - **Ordering**: a subscriber sees one topic's events in publish order; no order across topics.
 * - **Filtering first**: `tenantId` and `filter` run in publish(); refused events are never
 *   buffered, so one tenant's traffic costs another tenant's subscribers nothing.
 * - **No back-pressure on publishers**: publish() never waits and never throws because of a
 *   subscriber. Each subscriber buffers at most `maxBuffered` undelivered events; the event
 *   after that ends it: its buffer is dropped, it is unsubscribed at once, and its next
 *   `next()` rejects with SubscriptionLimitError (LIMIT_EXCEEDED, `limit: bufferedEvents`),
 *   which graphql-ws sends to the client as that operation's error. Later calls are done.
 * - **return() / throw()**: unsubscribe at once (subscriberCount drops before they resolve),
 *   drop the buffer, and settle a pending `next()` as done. Both may be called repeatedly.
 * - **subscriberCount(topic?)**: live subscribers of a topic, or of every topic; what the
 *   tests measure leaks by (issue 9: completed subscriptions kept receiving events).
 * - **subscriptionsMade()**: subscribe() calls so far, ended or not (only grows): a caller
 *   that starts a subscription elsewhere (a test client) sees when the server has made it.
 */
export interface PubSub {
  publish(topic: string, payload: unknown): void;
  subscribe(topic: string, options?: SubscribeOptions): AsyncIterableIterator<unknown>;
  subscriberCount(topic?: string): number;
  subscriptionsMade(): number;
}

/** Undelivered events a subscriber may hold before it is ended. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 1000;

/** SubscribeOptions for a GraphQL subscription: one tenant's events that `match`. */
export function tenantEvents<T>(
  tenantId: string,
  match: (event: T) => boolean = () => true,
): SubscribeOptions {
  return { tenantId, filter: (payload) => match(payload as T) };
}

/** Subscribers of one topic, keyed by tenant (`null`: every tenant). */
type TopicSubscribers = Map<string | null, Set<Subscriber>>;

interface Subscriber {
  offer(payload: unknown): void;
}

/** In-process pub/sub: the embedded default, for a single API process. */
export function createInProcessPubSub(opts: { maxBufferedEvents?: number } = {}): PubSub {
  const defaultMax = opts.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
  const topics = new Map<string, TopicSubscribers>();
  let made = 0;

  const add = (topic: string, tenant: string | null, sub: Subscriber) => {
    const byTenant = topics.get(topic) ?? new Map<string | null, Set<Subscriber>>();
    topics.set(topic, byTenant);
    const set = byTenant.get(tenant) ?? new Set<Subscriber>();
    byTenant.set(tenant, set.add(sub));
  };
  const remove = (topic: string, tenant: string | null, sub: Subscriber) => {
    const byTenant = topics.get(topic);
    const set = byTenant?.get(tenant);
    if (!byTenant || !set?.delete(sub)) return;
    if (set.size === 0) byTenant.delete(tenant);
    if (byTenant.size === 0) topics.delete(topic);
  };

  return {
    publish(topic, payload) {
      const byTenant = topics.get(topic);
      if (!byTenant) return;
      const tenant = (payload as { tenantId?: unknown } | null)?.tenantId;
      // Copied first: offer() may unsubscribe (overflow) while we iterate.
      const targets = [
        ...(byTenant.get(null) ?? []),
        ...(typeof tenant === 'string' ? (byTenant.get(tenant) ?? []) : []),
      ];
      for (const sub of targets) sub.offer(payload);
    },

    subscriberCount(topic) {
      const count = (byTenant: TopicSubscribers) =>
        [...byTenant.values()].reduce((n, set) => n + set.size, 0);
      if (topic !== undefined) return count(topics.get(topic) ?? new Map());
      return [...topics.values()].reduce((n, byTenant) => n + count(byTenant), 0);
    },

    subscriptionsMade: () => made,

    subscribe(topic, options = {}) {
      made += 1;
      const tenant = options.tenantId ?? null;
      const max = options.maxBuffered ?? defaultMax;
      const buffer: unknown[] = [];
      let waiting: { resolve(r: IteratorResult<unknown>): void; reject(e: unknown): void } | null =
        null;
      let failure: unknown = null;
      let done = false;

      const finish = () => {
        if (done) return;
        done = true;
        remove(topic, tenant, sub);
        buffer.length = 0;
        waiting?.resolve({ value: undefined, done: true });
        waiting = null;
      };
      const fail = (err: unknown) => {
        const waiter = waiting;
        waiting = null;
        finish();
        if (waiter) waiter.reject(err);
        else failure = err;
      };

      const sub: Subscriber = {
        offer(payload) {
          if (done) return;
          try {
            if (options.filter && !options.filter(payload)) return;
          } catch (err) {
            fail(err);
            return;
          }
          if (waiting) {
            waiting.resolve({ value: payload, done: false });
            waiting = null;
          } else if (buffer.length >= max) {
            fail(subscriberOverflow(max));
          } else {
            buffer.push(payload);
          }
        },
      };
      add(topic, tenant, sub);

      const iterator: AsyncIterableIterator<unknown> = {
        next() {
          if (buffer.length > 0) return Promise.resolve({ value: buffer.shift(), done: false });
          if (failure !== null) {
            const err = failure;
            failure = null;
            return Promise.reject(err);
          }
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve, reject) => (waiting = { resolve, reject }));
        },
        return() {
          failure = null;
          finish();
          return Promise.resolve({ value: undefined, done: true });
        },
        throw(err?: unknown) {
          failure = null;
          finish();
          return Promise.reject(err);
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };
}
