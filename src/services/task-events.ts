import type { Tx } from '../../graph/cypher.js';
import { taskEvents } from '../../graph/task-event.repository.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import type { Task } from '../domain/task.js';
import type { Emit } from './unit-of-work.js';

/**
 * Emits taskUpdated for each task, re-read inside the transaction so events carry the state
 * being committed, with its ancestors for subtree subscriptions, numbered per task (the bus
 * keeps a task's events in that order across processes: subscriptions/sequence.ts). Tasks may
 * span tenants (the engine works across them); each event keeps its task's tenant.
 */
export async function publishTasks(
  tx: Tx,
  emit: Emit,
  tasks: Task[],
  change: string,
  extra: Pick<TaskUpdatedEvent, 'dependantsMoved'> = {},
) {
  const byTenant = new Map<string, string[]>();
  for (const t of tasks) {
    const ids = byTenant.get(t.tenantId) ?? [];
    if (!ids.includes(t.id)) ids.push(t.id);
    byTenant.set(t.tenantId, ids);
  }
  for (const [tenantId, ids] of byTenant) {
    const fresh = new Map(
      (await taskEvents(tx, tenantId, ids, Date.now())).map((r) => [r.task.id, r]),
    );
    for (const id of ids) {
      const row = fresh.get(id);
      if (!row) continue;
      const { task, ancestorIds, seq, previousAt } = row;
      emit({
        topic: TOPICS.taskUpdated,
        payload: { tenantId, task, change, ancestorIds, seq, previousAt, ...extra },
      });
    }
  }
}
