import { subscriberOverflow } from './errors.js';
import {
  BadEventIdError,
  compareEventIds,
  eventIdOf,
  parseEventId,
  type EventId,
} from './event-id.js';
import type { SubscribeOptions } from './pubsub.js';

/**
 * Subscribers of this process and the delivery of events to them: what both pub/sub adapters
 * share. An adapter decides where events come from (publish() itself, or a Redis reader) and
 * what a subscriber replays; the fan-out keeps the PubSub contract's promises (pubsub.ts):
 * filtering before buffering, bounded buffers, return() unsubscribing at once.
 */
export interface Fanout {
  /**
   * Offers an event (already carrying its id) to this process's subscribers of `topic`: to the
   * first OFFERS_PER_TURN of them now, the rest in later turns. Each subscriber still gets
   * events in the order they were delivered.
   */
  deliver(topic: string, event: unknown): void;
  /**
   * A subscriber. With `options.after`, it first yields `history(after)` (the events of this
   * topic and tenant after that id, in order), then the live ones after the last of them, none
   * twice; live events that arrive while the history loads wait in its buffer. A history that
   * throws ends it with that error on its first `next()`; an `after` that is not an id throws
   * BadEventIdError here.
   */
  subscribe(
    topic: string,
    options: SubscribeOptions,
    history?: (after: EventId) => unknown[] | Promise<unknown[]>,
  ): AsyncIterableIterator<unknown>;
  /** A subscription refused with `err` (its first `next()` rejects with it), never registered. */
  refuse(err: unknown): AsyncIterableIterator<unknown>;
  /**
   * Ends every tenant's subscriber with `err` (the bus went away): each one's next `next()`
   * rejects, and its client resumes with `after`. Internal (tenant-less) subscribers stay: they
   * cannot resume, so they hear whatever comes once the bus is back.
   */
  endClients(err: unknown): void;
  subscriberCount(topic?: string): number;
  subscriptionsMade(): number;
}

interface Subscriber {
  offer(event: unknown): void;
  fail(err: unknown): void;
}

/** Subscribers of one topic, keyed by tenant (`null`: every tenant). */
type TopicSubscribers = Map<string | null, Set<Subscriber>>;

/**
 * Offers made per turn of the event loop. Each offer's subscriber then runs its whole way to the
 * socket (execution, serialising, the write) in that turn's microtasks, so offering to 5,000 at
 * once held the loop, and every other request with it, for about 300 ms; in slices, other work
 * runs between them (bench:subscriptions reports the longest block).
 */
export const OFFERS_PER_TURN = 250;

export function createFanout(defaultMax: number): Fanout {
  const topics = new Map<string, TopicSubscribers>();
  let made = 0;
  // Events being offered, oldest first: a subscriber gets them in this order, whatever the
  // slices (an event is offered to every target before the next event to any).
  const pending: { event: unknown; targets: Subscriber[]; offered: number }[] = [];
  let draining = false;
  const drain = () => {
    draining = true;
    let budget = OFFERS_PER_TURN;
    while (pending.length > 0 && budget > 0) {
      const head = pending[0]!;
      const end = Math.min(head.targets.length, head.offered + budget);
      budget -= end - head.offered;
      while (head.offered < end) head.targets[head.offered++]!.offer(head.event);
      if (head.offered === head.targets.length) pending.shift();
    }
    if (pending.length > 0) setImmediate(drain);
    else draining = false;
  };

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
  const count = (byTenant: TopicSubscribers) =>
    [...byTenant.values()].reduce((n, set) => n + set.size, 0);

  return {
    deliver(topic, event) {
      const byTenant = topics.get(topic);
      if (!byTenant) return;
      const tenant = (event as { tenantId?: unknown } | null)?.tenantId;
      // Copied first: offer() may unsubscribe (overflow) while we iterate.
      const targets = [
        ...(byTenant.get(null) ?? []),
        ...(typeof tenant === 'string' ? (byTenant.get(tenant) ?? []) : []),
      ];
      if (targets.length === 0) return;
      pending.push({ event, targets, offered: 0 });
      if (!draining) drain();
    },

    refuse(err) {
      made += 1;
      const iterator = subscriber(1, undefined, { add: () => {}, remove: () => {} });
      iterator.replay(() => {
        throw err;
      });
      return iterator;
    },

    endClients(err) {
      for (const byTenant of [...topics.values()]) {
        for (const [tenant, set] of [...byTenant]) {
          if (tenant !== null) for (const sub of [...set]) sub.fail(err);
        }
      }
    },

    subscriberCount(topic) {
      if (topic !== undefined) return count(topics.get(topic) ?? new Map());
      return [...topics.values()].reduce((n, byTenant) => n + count(byTenant), 0);
    },

    subscriptionsMade: () => made,

    subscribe(topic, options, history) {
      const after = options.after ?? null;
      // Refused at once, like any bad argument: the client gets it as the subscribe's answer.
      if (after !== null && !parseEventId(after)) throw new BadEventIdError(after);
      if (after !== null && !options.tenantId) throw new Error('resuming needs a tenantId');
      made += 1;
      const tenant = options.tenantId ?? null;
      const iterator = subscriber(options.maxBuffered ?? defaultMax, options.filter, {
        add: (sub) => add(topic, tenant, sub),
        remove: (sub) => remove(topic, tenant, sub),
      });
      if (after !== null && history) iterator.replay(() => history(after));
      return iterator;
    },
  };
}

type Waiter = { resolve(r: IteratorResult<unknown>): void; reject(e: unknown): void };

/** One subscriber: its buffer, its pending next(), its end. */
function subscriber(
  max: number,
  filter: ((payload: unknown) => boolean) | undefined,
  registry: { add(sub: Subscriber): void; remove(sub: Subscriber): void },
): AsyncIterableIterator<unknown> & {
  replay(history: () => unknown[] | Promise<unknown[]>): void;
} {
  const buffer: unknown[] = [];
  // The replayed events at the buffer's head: bounded by what the bus keeps (its replay size),
  // so they do not count against `max`, which bounds the live events a slow client lets pile
  // up; counted, a resume that missed more than `max` ended at once, and again each retry.
  let replayLeft = 0;
  let waiting: Waiter | null = null;
  let failure: unknown = null;
  let done = false;
  // While a history loads, live events wait here; afterwards those it already held are dropped
  // and the rest are filtered after it: a subscription's filter sees its events in its order.
  let held: unknown[] | null = null;
  // The last replayed id: a live event up to it was replayed already (the reader may deliver
  // it after the replay, as the history is read on another connection).
  let replayedUpTo: string | undefined;
  const replayed = (event: unknown) => {
    const id = replayedUpTo && eventIdOf(event);
    return !!id && compareEventIds(id, replayedUpTo!) <= 0;
  };

  const finish = () => {
    if (done) return;
    done = true;
    registry.remove(sub);
    buffer.length = 0;
    replayLeft = 0;
    held = null;
    waiting?.resolve({ value: undefined, done: true });
    waiting = null;
  };
  const fail = (err: unknown) => {
    if (done) return;
    const waiter = waiting;
    waiting = null;
    finish();
    if (waiter) waiter.reject(err);
    else failure = err;
  };
  const push = (event: unknown, replay = false) => {
    if (waiting) {
      waiting.resolve({ value: event, done: false });
      waiting = null;
    } else if (!replay && buffer.length - replayLeft >= max) {
      fail(subscriberOverflow(max));
    } else {
      buffer.push(event);
      if (replay) replayLeft += 1;
    }
  };
  const accepts = (event: unknown) => {
    try {
      return !filter || filter(event);
    } catch (err) {
      fail(err);
      return false;
    }
  };

  const sub: Subscriber = {
    offer(event) {
      if (done || replayed(event)) return;
      // Held unfiltered: the filter may keep state (taskUpdated's newest version per task,
      // newest.ts) and must see the history before the live events that follow it.
      if (held) {
        if (held.length >= max) fail(subscriberOverflow(max));
        else held.push(event);
      } else if (accepts(event)) push(event);
    },
    fail,
  };
  registry.add(sub);

  const iterator = {
    replay(history: () => unknown[] | Promise<unknown[]>) {
      held = [];
      const apply = (events: unknown[]) => {
        if (done || !held) return;
        const live = held;
        held = null;
        for (const event of events) {
          replayedUpTo = eventIdOf(event) ?? replayedUpTo;
          if (!done && accepts(event)) push(event, true);
        }
        for (const event of live) if (!done && !replayed(event) && accepts(event)) push(event);
      };
      try {
        const loaded = history();
        if (Array.isArray(loaded)) apply(loaded);
        else loaded.then(apply, fail);
      } catch (err) {
        fail(err);
      }
    },
    next(): Promise<IteratorResult<unknown>> {
      if (buffer.length > 0) {
        if (replayLeft > 0) replayLeft -= 1;
        return Promise.resolve({ value: buffer.shift(), done: false });
      }
      if (failure !== null) {
        const err = failure;
        failure = null;
        return Promise.reject(err);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return(): Promise<IteratorResult<unknown>> {
      failure = null;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err?: unknown): Promise<IteratorResult<unknown>> {
      failure = null;
      finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
