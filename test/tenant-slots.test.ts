import { describe, expect, it } from 'vitest';
import { TenantSlots } from '../src/limits/tenant-slots.js';

describe('TenantSlots', () => {
  it('runs a tenant’s requests up to its limit and lets the rest wait their turn, in order', async () => {
    const slots = new TenantSlots(2, 10);
    const running = [await slots.acquire('a', 1_000), await slots.acquire('a', 1_000)];
    const order: number[] = [];
    const waits = [3, 4, 5].map((n) =>
      slots.acquire('a', 1_000).then((release) => (order.push(n), release)),
    );
    expect([slots.inFlight('a'), slots.waiting('a')]).toEqual([2, 3]);
    running[0]!();
    running[1]!();
    const released = await Promise.all(waits.slice(0, 2));
    released.forEach((release) => release());
    (await waits[2]!)();
    expect(order).toEqual([3, 4, 5]);
    expect([slots.inFlight('a'), slots.waiting('a')]).toEqual([0, 0]);
  });

  it('does not make another tenant wait for one at its limit', async () => {
    const slots = new TenantSlots(1, 10);
    const busy = await slots.acquire('noisy', 1_000);
    const queued = slots.acquire('noisy', 1_000);
    const quiet = await slots.acquire('quiet', 0);
    expect(slots.inFlight('quiet')).toBe(1);
    quiet();
    busy();
    (await queued)();
  });

  it('refuses at once with LIMIT_EXCEEDED when the tenant’s queue is full', async () => {
    const slots = new TenantSlots(1, 1);
    const busy = await slots.acquire('a', 1_000);
    const queued = slots.acquire('a', 1_000);
    const refused = slots.acquire('a', 1_000);
    await expect(refused).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'concurrentRequestsPerTenant', max: 1, retryAfterSeconds: 1 },
    });
    await expect(refused).rejects.toThrow(/TENANT_MAX_CONCURRENT_REQUESTS raises it/);
    busy();
    (await queued)();
  });

  it('refuses a wait that outlasts its time with LIMIT_EXCEEDED, and gives its place up', async () => {
    const slots = new TenantSlots(1, 5);
    const busy = await slots.acquire('a', 1_000);
    await expect(slots.acquire('a', 20)).rejects.toThrow(/none came free within the 20 ms/);
    expect(slots.waiting('a')).toBe(0);
    busy();
  });

  it('forgets a tenant with nothing running or waiting, and counts a release once', async () => {
    const slots = new TenantSlots(1, 5);
    const release = await slots.acquire('a', 1_000);
    release();
    release();
    expect(slots.inFlight('a')).toBe(0);
    const again = await slots.acquire('a', 0);
    expect(slots.inFlight('a')).toBe(1);
    again();
    expect((slots as unknown as { byTenant: Map<string, unknown> }).byTenant.size).toBe(0);
  });

  it('gives a place up when its waiter aborts, and the next waiter gets the slot', async () => {
    const slots = new TenantSlots(1, 5);
    const busy = await slots.acquire('a', 1_000);
    const gone = new AbortController();
    const abandoned = slots.acquire('a', 1_000, gone.signal);
    const next = slots.acquire('a', 1_000);
    gone.abort(new Error('the socket closed'));
    await expect(abandoned).rejects.toThrow('the socket closed');
    expect(slots.waiting('a')).toBe(1);
    busy();
    (await next)();
    expect([slots.inFlight('a'), slots.waiting('a')]).toEqual([0, 0]);
  });
});
