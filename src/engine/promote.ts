import type { Tx } from '../../graph/cypher.js';
import { changeStatuses, type Promotable } from '../../graph/promotion.repository.js';
import { TaskStatus, type Task } from '../domain/task.js';
import { publishTasks } from '../services/task-events.js';
import type { Emit } from '../services/unit-of-work.js';
import { promotion } from './decisions.js';
import { settleUpwards } from './sweep.js';

/**
 * Moves PENDING steps as their dependencies and parent decide (decisions.ts: promotion),
 * publishes the changes and settles the parents of the steps it skipped. A tick promotes what
 * its scan finds (Scheduler.promote); a step's end promotes its own dependants in its own
 * transaction (record.ts) and may hand one of them to its own slot (`handOff`). Returns the
 * steps it moved.
 */
export async function promoteSteps(
  tx: Tx,
  emit: Emit,
  candidates: Promotable[],
  handOff?: (ready: Task[]) => Promise<ReadonlySet<string>>,
): Promise<Task[]> {
  const changes = candidates.map((p) => ({
    id: p.task.id,
    from: TaskStatus.PENDING,
    ...promotion(p),
  }));
  const changed = await changeStatuses(tx, changes);
  // A step handed off as it became READY (hand-off.ts) is published once, as STARTED.
  const taken = handOff
    ? await handOff(changed.filter((t) => t.status === TaskStatus.READY))
    : new Set<string>();
  const published = changed.filter((t) => !taken.has(t.id));
  await publishTasks(tx, emit, published, 'STATUS_CHANGED');
  for (const t of changed) {
    if (t.status === TaskStatus.SKIPPED) await settleUpwards(tx, emit, t);
  }
  return changed;
}
