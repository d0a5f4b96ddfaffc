import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { type TestServer } from './utils/server.js';
import {
  CreateTasks,
  SetTaskStatus,
  AssignTask,
  StatusesOf,
  startTaskServer,
  createTaskOn,
} from './utils/task-fixtures.js';

/*
 * Tasks created alone and as plans, dependency cycles refused, and the status transitions
 * (task-work.int.test.ts: cancellation, live updates, an agent's work, filters).
 */

const TaskTree = graphql(`
  query TaskTree($id: ID!) {
    task(id: $id) {
      id
      title
      status
      requiredCapabilities
      delegatedBy {
        name
      }
      assignment {
        agent {
          name
        }
        reason
      }
      subtasks {
        title
        parent {
          id
        }
        dependencies {
          title
        }
        dependents {
          title
        }
      }
    }
  }
`);

const RetryTask = graphql(`
  mutation RetryTask($id: ID!) {
    retryTask(id: $id) {
      id
      status
      error
    }
  }
`);

const AddDependency = graphql(`
  mutation AddDependency($id: ID!, $dependsOnId: ID!) {
    addTaskDependency(id: $id, dependsOnId: $dependsOnId) {
      id
      dependencies {
        id
      }
    }
  }
`);

const WorkflowOrder = graphql(`
  query WorkflowOrder($id: ID!) {
    workflow(taskId: $id) {
      tasks {
        title
      }
    }
  }
`);

describe('tasks', () => {
  let server: TestServer;
  let chief: { id: string; name: string };
  beforeAll(async () => {
    ({ server, chief } = await startTaskServer());
  });
  afterAll(() => server.stop());

  const task = (title: string, extra: Record<string, unknown> = {}) =>
    createTaskOn(server, title, extra);

  it('are created PENDING with defaults and who created them', async () => {
    expect(await task('  Write the report  ')).toMatchObject({
      title: 'Write the report',
      status: 'PENDING',
      priority: 'MEDIUM',
      attempts: 0,
      createdBy: 'test admin',
    });
  });

  it('form a plan in one batch: subtasks, dependencies by key, capabilities, delegation', async () => {
    const root = await task('Launch', { delegatedById: chief.id, requiredCapabilities: ['ops'] });
    const res = await server.gql(CreateTasks, {
      inputs: [
        { key: 'b', title: 'Build', parentId: root.id, dependsOnKeys: ['a'] },
        { key: 'a', title: 'Design', parentId: root.id },
        { key: 'c', title: 'Ship', parentId: root.id, dependsOnKeys: ['a', 'b'] },
      ],
    });
    expect(res.errors).toBeUndefined();
    await server.gql(AssignTask, { id: root.id, agentId: chief.id });

    const tree = await server.gql(TaskTree, { id: root.id });
    const t = tree.data!.task;
    expect(t.requiredCapabilities).toEqual(['ops']);
    expect(t.delegatedBy?.name).toBe('Chief');
    expect(t.assignment).toEqual({ agent: { name: 'Chief' }, reason: 'assigned by test admin' });
    const byTitle = Object.fromEntries(t.subtasks.map((s) => [s.title, s]));
    expect(Object.keys(byTitle).sort()).toEqual(['Build', 'Design', 'Ship']);
    expect(byTitle.Build!.parent?.id).toBe(root.id);
    expect(byTitle.Build!.dependencies.map((d) => d.title)).toEqual(['Design']);
    expect(byTitle.Design!.dependents.map((d) => d.title).sort()).toEqual(['Build', 'Ship']);
    expect(byTitle.Ship!.dependencies.map((d) => d.title).sort()).toEqual(['Build', 'Design']);
  });

  it('are listed in a workflow in plan order: parents and dependencies first, then by age', async () => {
    const root = await task('Release');
    const plan = await server.gql(CreateTasks, {
      inputs: [
        { key: 'ship', title: 'Ship', parentId: root.id, dependsOnKeys: ['test', 'build'] },
        { key: 'test', title: 'Test', parentId: root.id, dependsOnKeys: ['build'] },
        { key: 'build', title: 'Build', parentId: root.id },
      ],
    });
    expect(plan.errors).toBeUndefined();
    const test = plan.data!.createTasks.find((t) => t.title === 'Test')!;
    // Added later, one at a time: a sub-plan of Test, and a note beside the plan.
    await task('Write the notes', { parentId: root.id });
    await task('Unit tests', { parentId: test.id });
    await task('Integration tests', { parentId: test.id });
    const titles = async () =>
      (await server.gql(WorkflowOrder, { id: root.id })).data!.workflow.tasks.map((t) => t.title);
    const expected = [
      'Release',
      'Build',
      'Test',
      'Ship',
      'Write the notes',
      'Unit tests',
      'Integration tests',
    ];
    expect(await titles()).toEqual(expected);
    expect(await titles()).toEqual(expected);
  });

  it('refuse a dependency cycle within a batch, writing nothing', async () => {
    const res = await server.gql(CreateTasks, {
      inputs: [
        { key: 'x', title: 'Cycle X', dependsOnKeys: ['y'] },
        { key: 'y', title: 'Cycle Y', dependsOnKeys: ['x'] },
      ],
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('cycle');
    const left = await server.gql(StatusesOf, { filter: { text: 'Cycle ' } });
    expect(left.data?.tasks.totalCount).toBe(0);
  });

  it('refuse a dependency that closes a cycle through existing tasks', async () => {
    const a = await task('Chain A');
    const b = await task('Chain B', { dependsOn: [a.id] });
    const c = await task('Chain C', { dependsOn: [b.id] });
    const res = await server.gql(AddDependency, { id: a.id, dependsOnId: c.id });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('would make a cycle');
    const self = await server.gql(AddDependency, { id: a.id, dependsOnId: a.id });
    expect(self.errors?.[0]?.message).toBe('A task cannot depend on itself');
    const ok = await server.gql(AddDependency, { id: c.id, dependsOnId: a.id });
    expect(ok.data?.addTaskDependency.dependencies.map((d) => d.id).sort()).toEqual(
      [a.id, b.id].sort(),
    );
  });

  it('follow the transition table, record results and errors, and retry failures', async () => {
    const t = await task('Lifecycle');
    await server.gql(SetTaskStatus, { id: t.id, status: 'IN_PROGRESS' });
    const failed = await server.gql(SetTaskStatus, { id: t.id, status: 'FAILED', error: 'boom' });
    expect(failed.data?.setTaskStatus).toMatchObject({ status: 'FAILED', error: 'boom' });
    const retried = await server.gql(RetryTask, { id: t.id });
    expect(retried.data?.retryTask).toMatchObject({ status: 'PENDING', error: null });
    await server.gql(SetTaskStatus, { id: t.id, status: 'IN_PROGRESS' });
    const done = await server.gql(SetTaskStatus, { id: t.id, status: 'COMPLETED', result: '42' });
    expect(done.data?.setTaskStatus).toMatchObject({ status: 'COMPLETED', result: '42' });

    const back = await server.gql(SetTaskStatus, { id: t.id, status: 'IN_PROGRESS' });
    expect(back.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      from: 'COMPLETED',
      to: 'IN_PROGRESS',
    });
    const retryDone = await server.gql(RetryTask, { id: t.id });
    expect(retryDone.errors?.[0]?.message).toMatch(/^Cannot retry this task: .*COMPLETED/);
  });
});
