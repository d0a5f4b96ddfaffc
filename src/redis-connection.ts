/**
 * How every Redis connection of a process behaves (the event bus, shared rate limits, step
 * dispatch): connected explicitly, commands fail at once while disconnected instead of queueing
 * without bound (each caller has its fallback), and reconnects back off up to 2 s.
 */
export const REDIS_CONNECTION = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (times: number) => Math.min(times * 200, 2_000),
};
