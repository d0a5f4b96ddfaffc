import { describe, expect, it } from 'vitest';
import { PublishOrder } from '../src/services/publish-order.js';

describe('events are published in the order commits were requested', () => {
  it('holds a later commit’s events until every earlier commit has settled (issue 9: a dependant’s READY before its cause’s COMPLETED)', () => {
    const order = new PublishOrder();
    const seen: string[] = [];
    const first = order.take(); // "first COMPLETED" asks to commit
    const second = order.take(); // "second READY", which read it, asks after
    order.settle(second, () => seen.push('second READY')); // its commit returned sooner
    expect(seen).toEqual([]);
    order.settle(first, () => seen.push('first COMPLETED'));
    expect(seen).toEqual(['first COMPLETED', 'second READY']);
    expect(order.pending).toBe(0);
  });

  it('lets a failed or retried commit give its place up without publishing', () => {
    const order = new PublishOrder();
    const seen: string[] = [];
    const failed = order.take();
    const next = order.take();
    order.settle(next, () => seen.push('next'));
    order.settle(failed);
    expect(seen).toEqual(['next']);
    const alone = order.take();
    order.settle(alone, () => seen.push('alone'));
    expect(seen).toEqual(['next', 'alone']);
  });
});
