import { Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import type { ListTasksRequest, ListTasksResponse } from '@a2a-js/sdk';
import { loadA2ATask, saveA2ATask } from '../../graph/a2a-task.repository.js';
import { readWorkflow } from '../mcp/waiting.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import { callerOf } from './caller.js';
import { asRefusal } from './refusal.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../domain/errors.js';
import {
  OUTAGE_PATIENCE_MS,
  OUTAGE_RETRY_MS,
  TERMINAL,
  endedTask,
  platformTaskOf,
} from './executor.js';

/**
 * A2A tasks kept in the graph, per tenant (the caller's), so any instance answers GetTask and
 * a restart loses none. A task not ended here whose workflow has ended (its follower died with
 * its process) is read as the workflow says. Each read and write takes one of the tenant's
 * turns, as its operations do; one refused is the caller's refusal (asRefusal).
 */
export class GraphTaskStore implements TaskStore {
  constructor(private readonly uow: UnitOfWork) {}

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const { tenantId, inTurn } = callerOf(context);
    const row = {
      id: task.id,
      tenantId,
      contextId: task.contextId,
      taskId: platformTaskOf(task),
      json: JSON.stringify(Task.toJSON(task)),
    };
    await patiently(() => inTurn(() => this.uow.write((tx) => saveA2ATask(tx, row)))).catch(
      asRefusal,
    );
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const caller = callerOf(context);
    const row = await patiently(() =>
      caller.inTurn(() => this.uow.read((tx) => loadA2ATask(tx, caller.tenantId, taskId))),
    ).catch(asRefusal);
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

/**
 * The SDK saves and loads a task around each event it streams. One refused while Neo4j is away
 * is tried again for as long as the task's follower tries its reads (executor.ts), so a stream
 * waits through a short outage instead of ending with INTERNAL_ERROR.
 */
async function patiently<T>(work: () => Promise<T>): Promise<T> {
  const until = performance.now() + OUTAGE_PATIENCE_MS;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof UnavailableError) || performance.now() > until) throw err;
      await sleep(OUTAGE_RETRY_MS);
    }
  }
}
