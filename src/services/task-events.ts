import type { Tx } from '../../graph/cypher.js';
import { taskEvents, type TaskEvent } from '../../graph/task-event.repository.js';
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
    emitTaskEvents(
      emit,
      ids.flatMap((id) => fresh.get(id) ?? []),
      change,
      extra,
    );
  }
}

/** Emits taskUpdated for events already numbered (taskEvents, or a statement's numberEvent). */
export function emitTaskEvents(
  emit: Emit,
  events: TaskEvent[],
  change: string,
  extra: Pick<TaskUpdatedEvent, 'dependantsMoved'> = {},
) {
  for (const { task, ancestorIds, seq, previousAt } of events) {
    emit({
      topic: TOPICS.taskUpdated,
      payload: { tenantId: task.tenantId, task, change, ancestorIds, seq, previousAt, ...extra },
    });
  }
}
