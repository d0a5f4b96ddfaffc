import type { PubSub } from '../../subscriptions/pubsub.js';
import { keepWatching } from '../../subscriptions/watch.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import { TaskStatus, isFinished } from '../domain/task.js';
import type { Logger } from '../logger.js';
import type { InFlight } from './scheduler.js';

/**
 * Whether a task event may have made PENDING steps promotable that nobody promoted: one
 * started or reopened (not merely created or edited, which happens in bulk and waits for the
 * poll); a task that finished, unless it was a step whose end moved its dependants itself;
 * a task that began running other than by a claim (a workflow started, a plan expanded into
 * steps). The scheduler's tick looks for promotable steps only then, or every queuePollMs:
 * the look reads every PENDING step of its tenants (9,500 db hits at 950), and a tick that
 * made it every poll under load spent Neo4j's time on it (issue 15).
 */
const asksPromotion = ({ task, change, dependantsMoved }: TaskUpdatedEvent) =>
  (task.status === TaskStatus.PENDING && change !== 'CREATED' && change !== 'UPDATED') ||
  (isFinished(task.status) && dependantsMoved !== true) ||
  (task.status === TaskStatus.IN_PROGRESS && change !== 'STARTED');

/** Whether a task event gives a scheduler something to do now: a step to claim, or promotions. */
const wakes = (event: TaskUpdatedEvent) =>
  event.task.status === TaskStatus.READY || asksPromotion(event);

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
          if (asksPromotion(event)) scheduler.askPromotion();
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
