import type { Task } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';

/** For the DataLoader: tasks by id, any order; unknown ids are simply absent. */
export async function tasksByIds(tx: Tx, tenantId: string, ids: readonly string[]): Promise<Task[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: 'UNWIND $ids AS id MATCH (n:Task {tenantId: $tenantId, id: id}) RETURN n',
    params: { tenantId, ids },
  });
  return rows.map((r) => toTask(r.n));
}
