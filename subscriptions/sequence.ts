import { TOPICS, type TaskUpdatedEvent } from './topics.js';

/**
 * Per-entity order on the bus. Two processes publish after their own commits, so a task's
 * events can reach the bus in another order than they were committed: a worker's claim
 * (IN_PROGRESS) before the promotion (READY) another process committed just before it. Each
 * task event carries its number (`seq`, 1, 2, ... in commit order, counted on the task in the
 * transaction) and when the task's event before it was written (`previousAt`). A bus publishes
 * an event only once the one before it is out, so subscribers and resumed clients get every
 * transition in order, with none left out.
 *
 * Waiting is bounded: an event whose predecessor is not out within ORDER_WAIT_MS goes out anyway
 * (the predecessor's writer died before publishing: its relay brings it, late, and subscribers
 * leave it out as older than what they have). A predecessor written more than RECENT_MS ago is
 * taken as out: the bus remembers what went out about that long, no longer.
 */
export interface EventOrder {
  /** The entity the number counts: `task:<id>`. */
  key: string;
  seq: number;
  /** When the predecessor was written (ms since epoch); null for the entity's first event. */
  previousAt: number | null;
}

/** How long an event waits for its predecessor at most. */
export const ORDER_WAIT_MS = 5_000;
/** A predecessor written longer ago than this is taken as out (its writer published or died). */
export const RECENT_MS = 60_000;

/** The order an event takes its place in, or null when it has none (not a numbered event). */
export function orderOf(topic: string, payload: unknown): EventOrder | null {
  if (topic !== TOPICS.taskUpdated) return null;
  const event = payload as Partial<TaskUpdatedEvent>;
  if (typeof event.seq !== 'number' || !event.task?.id) return null;
  return { key: `task:${event.task.id}`, seq: event.seq, previousAt: event.previousAt ?? null };
}

/** Whether `order` may go out now, given the highest number out for its entity (null: none known). */
export function isDue(order: EventOrder, lastOut: number | null, now: number): boolean {
  if (order.seq <= 1) return true;
  if (lastOut !== null) return order.seq <= lastOut + 1;
  return order.previousAt === null || order.previousAt < now - RECENT_MS;
}

/**
 * The in-process bus's sequencer: remembers what went out per entity (the `max` entities heard
 * last) and holds early events until their predecessor is sent or ORDER_WAIT_MS passes.
 * Contract: `send` runs exactly once per call to `order()`, in per-entity number order unless
 * the wait ran out; events without an order are sent at once.
 */
export function createSequencer(waitMs = ORDER_WAIT_MS, max = 100_000) {
  const lastOut = new Map<string, number>();
  const held = new Map<string, { seq: number; send: () => void; timer: NodeJS.Timeout }[]>();

  const sent = (key: string, seq: number) => {
    const last = lastOut.get(key);
    lastOut.delete(key); // re-inserted last: the map's order is the order heard
    lastOut.set(key, Math.max(seq, last ?? seq));
    if (lastOut.size > max) lastOut.delete(lastOut.keys().next().value!);
  };
  const release = (key: string) => {
    const waiting = held.get(key);
    if (!waiting) return;
    for (;;) {
      const last = lastOut.get(key) ?? null;
      const next = waiting.findIndex((w) => last !== null && w.seq <= last + 1);
      if (next === -1) break;
      const [w] = waiting.splice(next, 1);
      clearTimeout(w!.timer);
      sent(key, w!.seq);
      w!.send();
    }
    if (waiting.length === 0) held.delete(key);
  };

  return {
    order(order: EventOrder | null, send: () => void): void {
      if (!order || isDue(order, lastOut.get(order.key) ?? null, Date.now())) {
        if (order) sent(order.key, order.seq);
        send();
        if (order) release(order.key);
        return;
      }
      const waiting = held.get(order.key) ?? [];
      held.set(order.key, waiting);
      const entry = {
        seq: order.seq,
        send,
        timer: setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1);
          if (waiting.length === 0) held.delete(order.key);
          sent(order.key, order.seq);
          send();
          release(order.key);
        }, waitMs),
      };
      entry.timer.unref();
      waiting.push(entry);
    },
  };
}
