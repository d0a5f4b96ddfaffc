import { Redis } from 'ioredis';
import { REDIS_CONNECTION } from '../redis-connection.js';
import type { Logger } from '../logger.js';
import { RateLimiter, type TakeResult } from './rate-limiter.js';

/**
 * Requests per minute per key, wherever they are counted. The contract: `take` spends one
 * request if the key has one left; `peek` says whether it would, spending nothing. Both answer
 * for every instance that shares the store. Neither throws: a store that cannot be reached is
 * replaced by this process's own buckets until it answers again (limits hold per instance
 * meanwhile, rather than refusing everyone or letting everyone through).
 */
export interface RateLimit {
  take(key: string): Promise<TakeResult>;
  peek(key: string): Promise<TakeResult>;
  close?(): Promise<void>;
}

/** The in-process limiter: the default for one API process. */
export function localRateLimit(perMinute: number): RateLimit {
  const limiter = new RateLimiter(perMinute);
  return {
    take: async (key) => limiter.take(key),
    peek: async (key) => limiter.peek(key),
  };
}

/**
 * The same token bucket as RateLimiter (up to `perMinute` at once, refilled continuously),
 * kept in Redis and updated by one script on Redis's clock, so every instance spends from one
 * bucket per key. KEYS: the bucket. ARGV: perMinute, 1 to take or 0 to peek.
 */
const TOKEN_BUCKET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per = tonumber(ARGV[1])
local perMs = per / 60000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or per
local at = tonumber(b[2]) or now
tokens = math.min(per, tokens + math.max(0, now - at) * perMs)
local allowed = tokens >= 1 - 1e-9
if ARGV[2] == '1' then
  if allowed then tokens = math.max(0, tokens - 1) end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil((per - tokens) / perMs) + 60000)
end
if allowed then return {1, 0} end
return {0, math.max(1, math.ceil((1 - tokens) / perMs / 1000))}`;

type Scripted = Redis & {
  tokenBucket(key: string, perMinute: number, take: 0 | 1): Promise<[number, number]>;
};

/** Rate limits shared by every API instance through Redis (REDIS_URL). */
export async function redisRateLimit(opts: {
  url: string;
  perMinute: number;
  logger: Logger;
  prefix?: string;
}): Promise<RateLimit> {
  const prefix = `${opts.prefix ?? 'agent-platform:'}rate:`;
  const local = localRateLimit(opts.perMinute);
  const redis = new Redis(opts.url, REDIS_CONNECTION) as Scripted;
  redis.defineCommand('tokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
  redis.on('error', () => {}); // reported once per outage below
  await redis.connect();
  let degraded = false;

  const ask = async (key: string, take: 0 | 1): Promise<TakeResult> => {
    try {
      const [allowed, retryAfterSeconds] = await redis.tokenBucket(
        prefix + key,
        opts.perMinute,
        take,
      );
      if (degraded) opts.logger.info('rate limits are shared through Redis again');
      degraded = false;
      return { allowed: allowed === 1, retryAfterSeconds };
    } catch (err) {
      if (!degraded) {
        opts.logger.warn(
          { err },
          'Redis unreachable: rate limits are counted per instance until it is back',
        );
      }
      degraded = true;
      return take ? local.take(key) : local.peek(key);
    }
  };
  return {
    take: (key) => ask(key, 1),
    peek: (key) => ask(key, 0),
    async close() {
      redis.disconnect();
    },
  };
}
