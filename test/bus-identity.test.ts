import { describe, expect, it } from 'vitest';
import { busIdentity } from '../subscriptions/bus.js';

const of = (redisUrl?: string, redisPrefix = 'p:') => busIdentity({ redisUrl, redisPrefix });

describe('the identity of a Redis event bus', () => {
  it('names host, port, database and key prefix as ioredis reads them, never credentials', () => {
    expect(of('redis://:s3cret@Cache.Example:6380/05?x=1')).toBe(
      'redis://cache.example:6380/5, REDIS_KEY_PREFIX "p:"',
    );
    expect(of('rediss://user:pw@[::1]')).toBe('redis://[::1]:6379/0, REDIS_KEY_PREFIX "p:"');
    expect(of('redis://h?db=3')).toBe('redis://h:6379/3, REDIS_KEY_PREFIX "p:"');
  });

  it('tells apart what ioredis keeps apart, and is null in-process', () => {
    expect(of('redis://h/0')).toBe(of('redis://h:6379'));
    expect(of('redis://h/1')).not.toBe(of('redis://h/0'));
    expect(of('redis://h', 'a:')).not.toBe(of('redis://h', 'b:'));
    expect(of(undefined)).toBeNull();
  });
});
