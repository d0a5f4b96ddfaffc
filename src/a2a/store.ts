import { Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import type { ListTasksRequest, ListTasksResponse } from '@a2a-js/sdk';
import { loadA2ATask, saveA2ATask } from '../../graph/a2a-task.repository.js';
import { readWorkflow } from '../mcp/waiting.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import { callerOf } from './caller.js';
import { TERMINAL, endedTask, platformTaskOf } from './executor.js';

/**
 * A2A tasks kept in the graph, per tenant (the caller's), so any instance answers GetTask and
 * a restart loses none. A task not ended here whose workflow has ended (its follower died with
 * its process) is read as the workflow says.
 */
export class GraphTaskStore implements TaskStore {
  constructor(private readonly uow: UnitOfWork) {}

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const { tenantId } = callerOf(context);
    await this.uow.write((tx) =>
      saveA2ATask(tx, {
        id: task.id,
        tenantId,
        contextId: task.contextId,
        taskId: platformTaskOf(task),
        json: JSON.stringify(Task.toJSON(task)),
      }),
    );
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const caller = callerOf(context);
    const row = await this.uow.read((tx) => loadA2ATask(tx, caller.tenantId, taskId));
    if (!row) return undefined;
    const task = Task.fromJSON(JSON.parse(row.json));
    const state = task.status?.state;
    if (!row.taskId || (state !== undefined && TERMINAL.has(state))) return task;
    const view = await readWorkflow(caller.run, row.taskId).catch(() => null);
    return view?.finished ? endedTask(task, view) : task;
  }

  /** Listing is not offered (the platform's own `tasks` query lists them). */
  async list(_params: ListTasksRequest, _context: ServerCallContext): Promise<ListTasksResponse> {
    return { tasks: [], nextPageToken: '', pageSize: 0, totalSize: 0 };
  }
}
