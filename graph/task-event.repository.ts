import type { Task } from '../src/domain/task.js';
import { batched } from './batch.js';
import type { Tx } from './cypher.js';
import { lockAndBump } from './locks.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';

/** A task as its event announces it (taskEvents). */
export interface TaskEvent {
  task: Task;
  ancestorIds: string[];
  seq: number;
  previousAt: number | null;
}

/**
 * The tasks as an event announces them, numbering the event: each task's `eventSeq` goes up by
 * one under its write lock (so numbers follow commit order) and `eventAt` is set to `now`; the
 * previous `eventAt` comes back too (subscriptions/sequence.ts). With ancestors, nearest first,
 * in one statement, shared by the calls made at once on one transaction (a group commit's
 * ends); unknown ids are absent.
 */
export function taskEvents(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  now: number,
): Promise<TaskEvent[]> {
  return batched(tx, taskEventBatch, { tenantId, ids, now }, ids);
}

async function taskEventBatch(
  tx: Tx,
  calls: { tenantId: string; ids: readonly string[]; now: number }[],
): Promise<TaskEvent[][]> {
  const rows = await tx.run<{
    call: number;
    t: NodeLike;
    seq: number;
    previousAt: number | null;
    ancestors: string[];
  }>({
    cypher: `
      UNWIND $tasks AS x
      MATCH (t:Task {tenantId: x.tenantId, id: x.id}) USING INDEX SEEK t:Task(id)
      ${lockAndBump('t', 'Task', 'eventSeq')}
      WITH x, t, t.eventAt AS previousAt
      SET t.eventAt = x.now
      WITH x, t, previousAt
      OPTIONAL MATCH p = (t)-[:SUBTASK_OF*1..]->(a:Task)
      WITH x, t, previousAt, a, length(p) AS depth ORDER BY depth
      RETURN x.call AS call, t, t.eventSeq AS seq, previousAt,
             [y IN collect(a.id) WHERE y IS NOT NULL] AS ancestors`,
    params: {
      tasks: calls.flatMap(({ tenantId, ids, now }, call) =>
        ids.map((id) => ({ tenantId, id, now, call })),
      ),
    },
  });
  const out = calls.map((): TaskEvent[] => []);
  for (const r of rows) {
    const event = {
      task: toTask(r.t),
      ancestorIds: r.ancestors,
      seq: r.seq,
      previousAt: r.previousAt,
    };
    out[Number(r.call)]!.push(event);
  }
  return out;
}
