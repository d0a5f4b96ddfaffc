import type { Config } from '../src/config/config.js';
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
