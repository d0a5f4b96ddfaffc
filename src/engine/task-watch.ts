import type { PubSub } from '../../subscriptions/pubsub.js';
import { keepWatching } from '../../subscriptions/watch.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import { TaskStatus } from '../domain/task.js';
import type { Logger } from '../logger.js';
import type { InFlight } from './scheduler.js';

/**
 * Whether a task event gives a scheduler something to do now: a step to claim (READY), or a
 * PENDING one to promote that was started or reopened (not merely created or edited, which
 * happens in bulk and waits for the poll).
 */
const wakes = ({ task, change }: TaskUpdatedEvent) =>
  task.status === TaskStatus.READY ||
  (task.status === TaskStatus.PENDING && change !== 'CREATED' && change !== 'UPDATED');

/**
 * A scheduler's task events, from every process on the bus: aborts its steps as soon as their
 * task leaves IN_PROGRESS (cancelled, reassigned), and ticks at once when a task of a tenant it
 * serves has work for it (`wakes`), so the poll interval does not bound how soon a step starts.
 * The wake-up happens in the filter: those events are never buffered. Internal watchers stay
 * subscribed through a Redis outage (keepWatching resubscribes if ended), and polling goes on
 * meanwhile.
 */
export function watchTasks(
  pubsub: PubSub,
  o: { tenantIds: string[] | null; logger: Logger },
  scheduler: {
    inFlight: ReadonlyMap<string, InFlight>;
    wake(): void;
    askPromotion(): void;
  },
): { stop(): Promise<void> } {
  const serves = (tenantId: string) => !o.tenantIds || o.tenantIds.includes(tenantId);
  return keepWatching(
    pubsub,
    TOPICS.taskUpdated,
    {
      filter: (payload) => {
        const event = payload as TaskUpdatedEvent;
        if (wakes(event) && serves(event.tenantId)) {
          if (event.task.status === TaskStatus.PENDING) scheduler.askPromotion();
          scheduler.wake();
        }
        return scheduler.inFlight.has(event.task.id);
      },
    },
    (payload) => {
      const { task } = payload as TaskUpdatedEvent;
      const flight = scheduler.inFlight.get(task.id);
      // An event older than this attempt's claim (its version is lower: the task was claimed
      // again since) is about the attempt before it, already aborted at the claim.
      if (flight && task.status !== TaskStatus.IN_PROGRESS && task.version >= flight.version) {
        flight.controller.abort(new Error(`the task became ${task.status}`));
      }
    },
    o.logger,
  );
}
