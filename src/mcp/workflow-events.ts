import { setTimeout as sleep } from 'node:timers/promises';
import { tenantEvents, type PubSub } from '../../subscriptions/pubsub.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';

/** The least time between two wake-ups of a follower. */
const MIN_GAP_MS = 100;

/** A status of the root and its version (Task.version: counts its writes). */
export interface RootStatus {
  status: string;
  version: number;
}

/** What a follower of one workflow hears between its reads. */
export interface WorkflowEvents {
  /**
   * Resolves at the first event of the workflow since the last wait (at once if one came
   * meanwhile), after `ms`, or when `signal` aborts; never rejects. Never sooner than
   * MIN_GAP_MS after it last resolved.
   */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** The statuses its root went through since the last call, in commit order (then cleared). */
  rootStatuses(): RootStatus[];
  /** Unsubscribes; idempotent. */
  close(): Promise<void>;
}

/**
 * The task events of a workflow (its root and every descendant, of one tenant), for a follower
 * that reads the workflow when something changed instead of only on a timer. A root may go
 * IN_PROGRESS and COMPLETED between two reads: its statuses are kept in order so the follower
 * tells each one. Filtered in publish(), so other tasks' events cost it nothing. If the bus ends
 * the subscription (Redis away) the follower is not told: waits last `ms`, reads go on.
 */
export function workflowEvents(pubsub: PubSub, tenantId: string, rootId: string): WorkflowEvents {
  const events = pubsub.subscribe(
    TOPICS.taskUpdated,
    tenantEvents<TaskUpdatedEvent>(
      tenantId,
      (e) => e.task.id === rootId || e.ancestorIds.includes(rootId),
    ),
  );
  let statuses: RootStatus[] = [];
  let newest = 0;
  let heard = false;
  let wake = null as (() => void) | null;
  let last = 0;
  void (async () => {
    try {
      for await (const payload of events) {
        const { task } = payload as TaskUpdatedEvent;
        // A second copy of an event (the outbox publishes at least once) is left out.
        if (task.id === rootId && task.version > newest) {
          newest = task.version;
          statuses.push({ status: task.status, version: task.version });
        }
        heard = true;
        wake?.();
      }
    } catch {
      // The bus ended this subscriber: waits fall back to their timeout.
    }
  })();
  return {
    async wait(ms, signal) {
      if (!heard) {
        // An event ends the sleep (and its timer) as the caller's abort does.
        const woken = new AbortController();
        wake = () => woken.abort();
        const either = AbortSignal.any([signal, woken.signal]);
        await sleep(ms, undefined, { signal: either }).catch(() => {});
        wake = null;
      }
      heard = false;
      // A wide workflow's burst of events makes one read, not one read per event.
      const gap = last + MIN_GAP_MS - performance.now();
      if (gap > 0) await sleep(gap, undefined, { signal }).catch(() => {});
      last = performance.now();
    },
    rootStatuses() {
      const seen = statuses;
      statuses = [];
      return seen;
    },
    async close() {
      await events.return?.();
      wake?.();
    },
  };
}
