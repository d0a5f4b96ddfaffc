import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionResult } from 'graphql';
import { graphql } from './generated/index.js';
import type { StatusesOfQuery } from './generated/graphql.js';
import { type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import {
  CreateAgent,
  CreateTask,
  CreateTasks,
  SetTaskStatus,
  AssignTask,
  StatusesOf,
  startTaskServer,
  createTaskOn,
} from './utils/task-fixtures.js';

/*
 * Tasks cancelled by subtree, announced to subscribers, counted as an agent's work and moved,
 * refused for inactive agents, filtered and paged (task-plans.int.test.ts: plans, transitions).
 */

const CancelTask = graphql(`
  mutation CancelTask($id: ID!) {
    cancelTask(id: $id) {
      id
      status
    }
  }
`);

const AgentWork = graphql(`
  query AgentWork($id: ID!) {
    agent(id: $id) {
      tasks {
        title
      }
      taskCounts {
        status
        count
      }
    }
  }
`);

const DeleteAgentReassign = graphql(`
  mutation DeleteAgentReassign($id: ID!, $reassignTo: ID) {
    deleteAgent(id: $id, reassignTo: $reassignTo) {
      reassignedTaskIds
    }
  }
`);

const TaskUpdated = graphql(`
  subscription TaskUpdated($rootId: ID, $taskId: ID) {
    taskUpdated(rootId: $rootId, taskId: $taskId) {
      change
      task {
        id
        title
        status
      }
    }
  }
`);

describe('tasks', () => {
  let server: TestServer;
  let operator: { id: string; name: string };
  beforeAll(async () => {
    ({ server, operator } = await startTaskServer());
  });
  afterAll(() => server.stop());

  const task = (title: string, extra: Record<string, unknown> = {}) =>
    createTaskOn(server, title, extra);

  it('cancel a subtree: unfinished descendants are cancelled, finished ones stay', async () => {
    const root = await task('Cancel root');
    const child = await task('Cancel child', { parentId: root.id });
    const grandchild = await task('Cancel grandchild', { parentId: child.id });
    const finished = await task('Cancel finished', { parentId: root.id });
    await server.gql(SetTaskStatus, { id: finished.id, status: 'IN_PROGRESS' });
    await server.gql(SetTaskStatus, { id: finished.id, status: 'COMPLETED' });

    const sub = await subscribe(server, TaskUpdated, { rootId: root.id });
    try {
      const res = await server.gql(CancelTask, { id: root.id });
      expect(res.data?.cancelTask.status).toBe('CANCELLED');
      const events = [await sub.waitForNext(), await sub.waitForNext(), await sub.waitForNext()];
      expect(events.map((e) => e.data?.taskUpdated.task.id)).toEqual([
        grandchild.id,
        child.id,
        root.id,
      ]);
      expect(events.every((e) => e.data?.taskUpdated.task.status === 'CANCELLED')).toBe(true);
      // Nothing more of the cancel (the finished child stays as it was): the next event is the
      // control's.
      let control = '';
      const extra = await sub.heardBefore(
        async () =>
          (control = (await task('Announced after the subtree', { parentId: root.id })).id),
        (e) => e.data?.taskUpdated.task.id === control,
      );
      expect(extra).toEqual([]);
    } finally {
      await sub.close();
    }
    const statuses = await server.gql(StatusesOf, { filter: { text: 'Cancel ' } });
    expect(Object.fromEntries(statuses.data!.tasks.nodes.map((n) => [n.title, n.status]))).toEqual({
      'Cancel root': 'CANCELLED',
      'Cancel child': 'CANCELLED',
      'Cancel grandchild': 'CANCELLED',
      'Cancel finished': 'COMPLETED',
    });
  });

  it('announce only the subscribed subtree or task', async () => {
    const root = await task('Watched root');
    const other = await task('Unwatched root');
    const tree = await subscribe(server, TaskUpdated, { rootId: root.id });
    const one = await subscribe(server, TaskUpdated, { taskId: other.id });
    try {
      const child = await task('Watched child', { parentId: root.id });
      await task('Unwatched child', { parentId: other.id });
      await server.gql(SetTaskStatus, { id: other.id, status: 'IN_PROGRESS' });
      const created = await tree.waitForNext();
      expect(created.data?.taskUpdated).toMatchObject({
        change: 'CREATED',
        task: { id: child.id },
      });
      // The other root's child and status change never reach the tree: the control comes next.
      let control = '';
      const unwatched = await tree.heardBefore(
        async () => (control = (await task('Watched control', { parentId: root.id })).id),
        (e) => e.data?.taskUpdated.task.id === control,
      );
      expect(unwatched).toEqual([]);
      const changed = await one.waitForNext();
      expect(changed.data?.taskUpdated).toMatchObject({
        change: 'STATUS_CHANGED',
        task: { id: other.id, status: 'IN_PROGRESS' },
      });
    } finally {
      await tree.close();
      await one.close();
    }
  });

  it('count and list an agent’s work, and move it when the agent is deleted', async () => {
    const temp = await server.gql(CreateAgent, {
      input: { name: 'Temp', role: 'MASTER_OPERATOR' },
    });
    const tempId = temp.data!.createAgent.id;
    const t1 = await task('Temp job 1', { assigneeId: tempId });
    await task('Temp job 2', { assigneeId: tempId });
    await server.gql(SetTaskStatus, { id: t1.id, status: 'IN_PROGRESS' });

    const work = await server.gql(AgentWork, { id: tempId });
    expect(work.data?.agent.tasks.map((t) => t.title)).toEqual(['Temp job 2', 'Temp job 1']);
    expect(work.data?.agent.taskCounts).toEqual([
      { status: 'IN_PROGRESS', count: 1 },
      { status: 'PENDING', count: 1 },
    ]);

    const refused = await server.gql(DeleteAgentReassign, { id: tempId });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0]?.message).toContain('2 unfinished task(s)');
    const moved = await server.gql(DeleteAgentReassign, { id: tempId, reassignTo: operator.id });
    expect(moved.data?.deleteAgent.reassignedTaskIds).toHaveLength(2);
    const after = await server.gql(AgentWork, { id: operator.id });
    expect(after.data?.agent.tasks.map((t) => t.title)).toEqual(
      expect.arrayContaining(['Temp job 1', 'Temp job 2']),
    );
  });

  it('refuse work for an inactive agent and unknown ids', async () => {
    const t = await task('Needs a worker');
    const sleeper = await server.gql(CreateAgent, {
      input: { name: 'Sleepy', role: 'MASTER_OPERATOR' },
    });
    await server.gql(
      graphql(`
        mutation TaskTestDeactivate($id: ID!) {
          deactivateAgent(id: $id) {
            id
          }
        }
      `),
      { id: sleeper.data!.createAgent.id },
    );
    const inactive = await server.gql(AssignTask, {
      id: t.id,
      agentId: sleeper.data!.createAgent.id,
    });
    expect(inactive.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const unknownAgent = await server.gql(AssignTask, {
      id: t.id,
      agentId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownAgent.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const unknownParent = await server.gql(CreateTask, {
      input: { title: 'Orphan', parentId: '00000000-0000-4000-8000-000000000001' },
    });
    expect(unknownParent.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('filter by status and page through every match once', async () => {
    const created = await server.gql(CreateTasks, {
      inputs: Array.from({ length: 5 }, (_, i) => ({
        title: `Filtered ${i}`,
        priority: 'HIGH' as const,
      })),
    });
    expect(created.errors).toBeUndefined();
    const expected = created.data!.createTasks.map((t) => t.id);
    // A list, not a set: a page that repeats a task must fail this test.
    const seen: string[] = [];
    let pages = 0;
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const res: ExecutionResult<StatusesOfQuery> = await server.gql(StatusesOf, {
        filter: { text: 'Filtered', status: ['PENDING'], priority: ['HIGH'] },
        first: 2,
        after,
      });
      const conn = res.data!.tasks;
      expect(conn.totalCount).toBe(5);
      seen.push(...conn.nodes.map((n) => n.id));
      pages++;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor ?? null;
    }
    expect(pages).toBe(3); // 2 + 2 + 1
    expect(seen).toHaveLength(expected.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...expected].sort());
  });
});
