/**
 * The pub/sub contract type-graphql's @Subscription uses. Publishers call it only after their
 * transaction commits; each subscriber sees a topic's events in publish order.
 */
export interface PubSub {
  publish(topic: string, payload: unknown): void;
  subscribe(topic: string): AsyncIterableIterator<unknown>;
}

/** In-process pub/sub: the embedded default, for a single API process. */
export function createInProcessPubSub(): PubSub {
  const subscribers = new Map<string, Set<(payload: unknown) => void>>();

  return {
    publish(topic, payload) {
      for (const push of subscribers.get(topic) ?? []) push(payload);
    },
    subscribe(topic) {
      const buffer: unknown[] = [];
      let waiting: ((r: IteratorResult<unknown>) => void) | undefined;
      let done = false;
      const push = (payload: unknown) => {
        if (waiting) {
          waiting({ value: payload, done: false });
          waiting = undefined;
        } else {
          buffer.push(payload);
        }
      };
      const set = subscribers.get(topic) ?? new Set();
      set.add(push);
      subscribers.set(topic, set);

      const finish = (): Promise<IteratorResult<unknown>> => {
        done = true;
        set.delete(push);
        if (set.size === 0) subscribers.delete(topic);
        buffer.length = 0;
        waiting?.({ value: undefined, done: true });
        waiting = undefined;
        return Promise.resolve({ value: undefined, done: true });
      };
      const iterator: AsyncIterableIterator<unknown> = {
        next() {
          if (buffer.length > 0) return Promise.resolve({ value: buffer.shift(), done: false });
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => (waiting = resolve));
        },
        return: finish,
        throw: (err?: unknown) => finish().then(() => Promise.reject(err)),
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };
}
