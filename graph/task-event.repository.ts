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

/**
 * The Cypher that numbers an event of the task bound to `t` (taskEvents), in any statement
 * that has just written it: it carries `keep` and binds `previousAt`, `seq` and `ancestors`
 * (TASK_EVENT_COLUMNS). A statement that changes a task and announces it so (a claim's run
 * start) saves the statement that would read it again.
 */
export function numberEvent(t: string, now: string, keep: string): string {
  return `${lockAndBump(t, 'Task', 'eventSeq')}
      WITH ${keep}, ${t}, ${t}.eventAt AS previousAt
      SET ${t}.eventAt = ${now}
      WITH ${keep}, ${t}, previousAt, ${t}.eventSeq AS seq,
           COLLECT { MATCH ${t}_up = (${t})-[:SUBTASK_OF*1..]->(${t}_ancestor:Task)
                     RETURN ${t}_ancestor.id ORDER BY length(${t}_up) } AS ancestors`;
}

/** The columns of an event numbered by numberEvent, for `t`, read by taskEventOf. */
export const TASK_EVENT_COLUMNS = (t: string) => `${t} AS t, seq, previousAt, ancestors`;
export type TaskEventRow = {
  t: NodeLike;
  seq: number;
  previousAt: number | null;
  ancestors: string[];
};

export const taskEventOf = (r: TaskEventRow): TaskEvent => ({
  task: toTask(r.t),
  ancestorIds: r.ancestors,
  seq: r.seq,
  previousAt: r.previousAt,
});

async function taskEventBatch(
  tx: Tx,
  calls: { tenantId: string; ids: readonly string[]; now: number }[],
): Promise<TaskEvent[][]> {
  const rows = await tx.run<{ call: number } & TaskEventRow>({
    cypher: `
      UNWIND $tasks AS x
      MATCH (t:Task {tenantId: x.tenantId, id: x.id}) USING INDEX SEEK t:Task(id)
      ${numberEvent('t', 'x.now', 'x')}
      RETURN x.call AS call, ${TASK_EVENT_COLUMNS('t')}`,
    params: {
      tasks: calls.flatMap(({ tenantId, ids, now }, call) =>
        ids.map((id) => ({ tenantId, id, now, call })),
      ),
    },
  });
  const out = calls.map((): TaskEvent[] => []);
  for (const r of rows) out[Number(r.call)]!.push(taskEventOf(r));
  return out;
}
