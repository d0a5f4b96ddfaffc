import type { Config } from '../src/config/config.js';
import { withoutCredentials } from '../src/config/url-credentials.js';
import type { Logger } from '../src/logger.js';
import { createInProcessPubSub, type PubSub } from './pubsub.js';
import { createRedisPubSub } from './redis-pubsub.js';
import { offerSteps } from '../src/engine/dispatch.js';

/**
 * The pub/sub of this process: Redis Streams when REDIS_URL is set (several API instances and
 * workers share it), otherwise in-process (one API process). A Redis that cannot be reached at
 * start is an error naming REDIS_URL, not a silent fall-back to in-process events.
 */
export async function openEventBus(
  config: Pick<Config, 'events' | 'limits'> & { engine?: Pick<Config['engine'], 'dispatch'> },
  logger: Logger,
  { process = 'api' }: { process?: 'api' | 'worker' } = {},
): Promise<PubSub> {
  const common = {
    maxBufferedEvents: config.limits.maxBufferedEvents,
    replayEvents: config.events.replayEvents,
  };
  // A worker's in-process bus hears only its own events (the API's relay publishes them).
  if (!config.events.redisUrl) {
    return createInProcessPubSub({ ...common, ordered: process === 'api' });
  }
  const { redisUrl: url, redisPrefix: prefix } = config.events;
  // READY steps are offered to the schedulers' dispatch as their events go out (issue 15).
  const onPublish = config.engine?.dispatch === 'redis' ? offerSteps(prefix) : undefined;
  const bus = await createRedisPubSub({ url, prefix, logger, onPublish, ...common });
  logger.info('Events go through Redis (REDIS_URL)');
  return bus;
}

/**
 * Which Redis bus REDIS_URL and REDIS_KEY_PREFIX name, without credentials: host, port and
 * database number as ioredis reads them (defaults localhost, 6379, 0; the path's number, else
 * `?db=`) and the key prefix, e.g. `redis://127.0.0.1:6379/0, REDIS_KEY_PREFIX "agent-platform:"`.
 * Streams are keys, so processes hear each other only when these are equal. Null in-process.
 */
export function busIdentity(events: Pick<Config['events'], 'redisUrl' | 'redisPrefix'>) {
  const { redisUrl: url, redisPrefix: prefix } = events;
  if (!url) return null;
  const parsed = URL.parse(url);
  const server = parsed
    ? `redis://${hostOf(parsed)}:${parsed.port || '6379'}/${dbOf(parsed)}`
    : withoutCredentials(url); // ioredis would have refused it at connect: shown as written
  return `${server}, REDIS_KEY_PREFIX ${JSON.stringify(prefix)}`;
}

function hostOf(url: URL): string {
  // Host names are case-blind; a redis:// URL keeps their case, and IPv6 its brackets.
  return url.hostname.toLowerCase() || 'localhost';
}

function dbOf(url: URL): string {
  const db = url.pathname.slice(1) || url.searchParams.get('db') || '0';
  return /^\d+$/.test(db) ? String(Number(db)) : db; // `/05` is database 5
}
