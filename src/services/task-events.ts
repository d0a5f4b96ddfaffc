import type { Tx } from '../../graph/cypher.js';
import * as repo from '../../graph/task.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import type { Task } from '../domain/task.js';
import type { Emit } from './unit-of-work.js';

/**
 * Emits taskUpdated for each task, re-read inside the transaction so events carry the state
 * being committed, with its ancestors for subtree subscriptions. Tasks may span tenants (the
 * engine works across them); each event keeps its task's tenant.
 */
export async function publishTasks(tx: Tx, emit: Emit, tasks: Task[], change: string) {
  const byTenant = new Map<string, string[]>();
  for (const t of tasks) byTenant.set(t.tenantId, [...(byTenant.get(t.tenantId) ?? []), t.id]);
  for (const [tenantId, ids] of byTenant) {
    const fresh = new Map(
      (await repo.tasksWithAncestors(tx, tenantId, ids)).map((r) => [r.task.id, r]),
    );
    for (const id of ids) {
      const row = fresh.get(id);
      if (!row) continue;
      emit({
        topic: TOPICS.taskUpdated,
        payload: { tenantId, task: row.task, change, ancestorIds: row.ancestorIds },
      });
    }
  }
}
