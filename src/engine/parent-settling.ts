import type { UnitOfWork } from '../services/unit-of-work.js';

/**
 * Settles a parent once for every end that asks while a settle of it waits to start: that
 * settle reads the parent after those ends committed, so it sees them all. An end that asks
 * while one runs (it may have read the children before this end committed) gets one more
 * after it. At a DAG's tail the ends of one group each found the parent settleable and each
 * settled it: all but the first locked it only to find it ended, after waiting for the first's
 * locks on every child (90–120 ms for 1,000 children), each holding a write slot meanwhile.
 *
 * Contract: a call resolves once a settle of the parent that started after the call has ended
 * (or rejects with that settle's error); at most one settle of a parent runs at once among the
 * schedulers of one unit of work (settlingOf); settles of different parents never wait for
 * each other.
 */
export class ParentSettling {
  private readonly queued = new Map<string, Promise<void>>();
  private readonly running = new Map<string, Promise<void>>();

  settle(parentId: string, run: () => Promise<void>): Promise<void> {
    const waiting = this.queued.get(parentId);
    if (waiting) return waiting;
    const before = this.running.get(parentId);
    const next = (async () => {
      // Always a tick, so that `next` is queued before it starts.
      await before?.catch(() => undefined);
      this.queued.delete(parentId);
      const current = run();
      this.running.set(parentId, current);
      try {
        await current;
      } finally {
        if (this.running.get(parentId) === current) this.running.delete(parentId);
      }
    })();
    this.queued.set(parentId, next);
    return next;
  }
}

const settlings = new WeakMap<UnitOfWork, ParentSettling>();

/** The settling shared by the schedulers of one unit of work (one process's, as a rule). */
export function settlingOf(uow: UnitOfWork): ParentSettling {
  let settling = settlings.get(uow);
  if (!settling) settlings.set(uow, (settling = new ParentSettling()));
  return settling;
}
