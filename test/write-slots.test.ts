import { describe, expect, it } from 'vitest';
import { WriteSlots, writeSlotsFor } from '../graph/write-slots.js';

describe('WriteSlots', () => {
  it('grants slots in the order they were asked for', async () => {
    const slots = new WriteSlots(1);
    const first = await slots.acquire(1_000);
    const order: number[] = [];
    const second = slots.acquire(1_000).then((release) => (order.push(2), release));
    const third = slots.acquire(1_000).then((release) => (order.push(3), release));
    expect(slots.queued).toBe(2);
    first();
    (await second)();
    (await third)();
    expect(order).toEqual([2, 3]);
    expect(slots.inUse).toBe(0);
  });

  it('counts a release once, however often it is called', async () => {
    const slots = new WriteSlots(2);
    const release = await slots.acquire(1_000);
    release();
    release();
    expect(slots.inUse).toBe(0);
    await slots.acquire(1_000);
    await slots.acquire(1_000);
    expect(slots.inUse).toBe(2);
  });

  it('fails a wait past its time with the driver’s "busy" message, and forgets the waiter', async () => {
    const slots = new WriteSlots(1);
    const held = await slots.acquire(1_000);
    await expect(slots.acquire(20)).rejects.toThrow(/^Connection acquisition timed out/);
    expect(slots.queued).toBe(0);
    held();
    expect(slots.inUse).toBe(0);
  });

  it('keeps a quarter of the pool, at least two connections, for reads', () => {
    expect(writeSlotsFor(16)).toBe(12);
    expect(writeSlotsFor(100)).toBe(75);
    expect(writeSlotsFor(4)).toBe(2);
    expect(writeSlotsFor(3)).toBe(2);
    expect(writeSlotsFor(1)).toBe(1);
  });
});
