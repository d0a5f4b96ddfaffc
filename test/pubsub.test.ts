import { describe, expect, it } from 'vitest';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';

describe('in-process pub/sub', () => {
  it('delivers a topic to every subscriber in publish order', async () => {
    const pubsub = createInProcessPubSub();
    const a = pubsub.subscribe('t');
    const b = pubsub.subscribe('t');
    const other = pubsub.subscribe('u');
    for (const n of [1, 2, 3]) pubsub.publish('t', n);
    for (const it of [a, b]) {
      expect([(await it.next()).value, (await it.next()).value, (await it.next()).value]).toEqual([
        1, 2, 3,
      ]);
    }
    pubsub.publish('u', 'x');
    expect((await other.next()).value).toBe('x');
  });

  it('wakes a waiting subscriber and stops delivering after return()', async () => {
    const pubsub = createInProcessPubSub();
    const it = pubsub.subscribe('t');
    const pending = it.next();
    pubsub.publish('t', 'hello');
    expect(await pending).toEqual({ value: 'hello', done: false });
    await it.return?.();
    pubsub.publish('t', 'late');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
