import { Slots } from '../../graph/write-slots.js';
import { tenantBusyError } from './errors.js';

/** setTimeout's longest delay; a longer one (Infinity) would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Requests in flight per tenant on this instance: at most `maxConcurrent` of one tenant run at
 * once, the next `maxQueued` wait their turn in order, one more is refused at once. So one
 * tenant's burst cannot hold the event loop and the Neo4j pool while other tenants wait.
 *
 * Contract: `acquire` resolves with the slot's release (call it once the request's work has
 * ended; calling it again does nothing), or rejects with `busy` (by default LIMIT_EXCEEDED,
 * tenantBusyError; PDF reading has its own, src/memory/documents/pdf-text.ts) when
 * the queue is full or no slot came free within `waitMs`, or with `signal`'s reason once the
 * caller gives up its wait (its place goes to the next). Tenants with nothing running or
 * waiting are forgotten, so memory follows the tenants active now.
 */
export class TenantSlots {
  private readonly byTenant = new Map<string, Slots>();

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueued: number,
    /** The refusal of a full queue or a wait past its time (a tenant's requests by default). */
    private readonly busy: (why: { queued: number } | { waitedMs: number }) => Error = (why) =>
      tenantBusyError(maxConcurrent, why),
  ) {}

  async acquire(tenantId: string, waitMs: number, signal?: AbortSignal): Promise<() => void> {
    let slots = this.byTenant.get(tenantId);
    if (!slots) {
      slots = new Slots(this.maxConcurrent, (waited) => this.busy({ waitedMs: waited }));
      this.byTenant.set(tenantId, slots);
    }
    if (slots.inUse >= slots.size && slots.queued >= this.maxQueued) {
      throw this.busy({ queued: slots.queued });
    }
    const held = slots;
    let release: () => void;
    try {
      // A timer of 0 still lets a slot released in this tick go to an earlier waiter first.
      release = await held.acquire(Math.min(MAX_TIMER_MS, Math.max(0, waitMs)), { signal });
    } catch (err) {
      this.forgetIdle(tenantId, held);
      throw err;
    }
    return () => {
      release();
      this.forgetIdle(tenantId, held);
    };
  }

  /** Requests of the tenant running now (tests, metrics). */
  inFlight(tenantId: string): number {
    return this.byTenant.get(tenantId)?.inUse ?? 0;
  }

  /** Requests of the tenant waiting for a slot now. */
  waiting(tenantId: string): number {
    return this.byTenant.get(tenantId)?.queued ?? 0;
  }

  private forgetIdle(tenantId: string, slots: Slots): void {
    if (slots.inUse === 0 && slots.queued === 0 && this.byTenant.get(tenantId) === slots) {
      this.byTenant.delete(tenantId);
    }
  }
}
