import type { Logger } from '../src/logger.js';
import type { PubSub, SubscribeOptions } from './pubsub.js';

/**
 * An internal subscriber that outlives the bus: it hands each event to `onEvent` and, when the
 * bus ends it (Redis away: SERVICE_UNAVAILABLE), subscribes again every `retryMs` until it is
 * back. One warning per outage, not one per retry. Never rejects: a watcher that threw would be
 * an unhandled rejection, which ends the process. stop() ends it for good.
 */
export function keepWatching(
  pubsub: PubSub,
  topic: string,
  options: SubscribeOptions,
  onEvent: (payload: unknown) => void,
  logger: Pick<Logger, 'warn' | 'info'>,
  retryMs = 1_000,
): { stop(): Promise<void> } {
  let stopped = false;
  let current: AsyncIterableIterator<unknown> | null = null;
  let wake: (() => void) | null = null;
  const done = (async () => {
    let failing = false;
    while (!stopped) {
      current = pubsub.subscribe(topic, options);
      try {
        for await (const payload of current) {
          if (failing) logger.info(`watching ${topic} again`);
          failing = false;
          onEvent(payload);
        }
      } catch (err) {
        if (!stopped && !failing) logger.warn({ err }, `stopped hearing ${topic}; retrying`);
        failing = true;
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, retryMs);
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      await current?.return?.();
      wake?.();
      await done;
    },
  };
}
