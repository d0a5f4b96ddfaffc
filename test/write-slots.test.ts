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

  it('grants urgent waits (lease renewals) before every other waiting write, in their own order', async () => {
    const slots = new WriteSlots(1);
    const first = await slots.acquire(1_000);
    const order: string[] = [];
    // Each records its turn and lets the next one in at once.
    const wait = (name: string, urgent = false) =>
      slots.acquire(1_000, { urgent }).then((release) => {
        order.push(name);
        release();
      });
    const waits = [wait('step 1'), wait('step 2'), wait('heartbeat 1', true)];
    // An urgent wait that times out gives its place up without disturbing the others.
    await expect(slots.acquire(20, { urgent: true })).rejects.toThrow(/timed out/);
    waits.push(wait('heartbeat 2', true), wait('step 3'));
    first();
    await Promise.all(waits);
    expect(order).toEqual(['heartbeat 1', 'heartbeat 2', 'step 1', 'step 2', 'step 3']);
    expect(slots.inUse).toBe(0);
    expect(slots.queued).toBe(0);
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
