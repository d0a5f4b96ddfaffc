import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockTask, patchTask } from '../graph/task.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * cancelTask against a task below it that ends meanwhile (task-work.int.test.ts: cancelling a
 * tree at rest). Cancelling reads which tasks below are unfinished, then locks and cancels
 * each; one that finished in between stays finished: its work was done.
 * A retry of a step below reads its ancestors under their locks, so it sees a cancel of them.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const statusOf = async (id: string) => {
  const res = await server.gql(`query($id: ID!) { task(id: $id) { status result } }`, {
    id,
  } as never);
  return (res.data as { task: { status: string; result: string | null } }).task;
};

it('leaves a task below that completed while the cancel waited for it COMPLETED', async () => {
  const created = await server.gql(`mutation { createTasks(inputs: [
    { key: "p", title: "parent" }, { key: "c", title: "child", parentKey: "p" }]) { id key } }`);
  expect(created.errors).toBeUndefined();
  const [parent, child] = (created.data as { createTasks: { id: string }[] }).createTasks.map(
    (t) => t.id,
  ) as [string, string];
  await server.gql(`mutation($id: ID!) { setTaskStatus(id: $id, status: IN_PROGRESS) { id } }`, {
    id: child,
  } as never);

  let cancel: Promise<unknown> | undefined;
  // The child's end holds its lock until it commits; the cancel, which read the child as
  // unfinished, waits for that lock meanwhile.
  await server.graph.write(async (tx) => {
    await lockTask(tx, server.tenantId, child);
    await patchTask(tx, server.tenantId, child, { status: TaskStatus.COMPLETED, result: 'done' });
    cancel = server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, {
      id: parent,
    } as never);
    await untilBlocked(server.graph, 'the cancel to wait for the child', {
      name: 'id',
      value: child,
    });
  });
  expect(await cancel).toMatchObject({ data: { cancelTask: { status: 'CANCELLED' } } });
  expect(await statusOf(child)).toEqual({ status: 'COMPLETED', result: 'done' });
});

it('a retry of a step that waited for its workflow’s cancel reopens the workflow, as if it came after', async () => {
  const [root, failed, waiting] = [randomUUID(), randomUUID(), randomUUID()];
  await server.graph.write((tx) =>
    tx.run({
      cypher: `
        CREATE (root:Task {id: $root, tenantId: $tenantId, title: 'root', status: 'IN_PROGRESS',
                           orchestrated: true, attempts: 0, version: 0, priority: 'MEDIUM',
                           createdAt: datetime(), updatedAt: datetime()})
        CREATE (:Task {id: $failed, tenantId: $tenantId, key: 'a', title: 'a', status: 'FAILED',
                       error: 'broke', orchestrated: true, attempts: 3, version: 0,
                       priority: 'MEDIUM', createdAt: datetime(), updatedAt: datetime()})
               -[:SUBTASK_OF]->(root)
        CREATE (:Task {id: $waiting, tenantId: $tenantId, key: 'b', title: 'b', status: 'PENDING',
                       orchestrated: true, attempts: 0, version: 0, priority: 'MEDIUM',
                       createdAt: datetime(), updatedAt: datetime()})-[:SUBTASK_OF]->(root)`,
      params: { tenantId: server.tenantId, root, failed, waiting },
    }),
  );
  let retry: Promise<unknown> | undefined;
  // The root's cancel (as cancelTask writes it) holds the root's lock until it commits; the
  // retry of the failed step, which reopens the step's ancestors, starts meanwhile.
  await server.graph.write(async (tx) => {
    await lockTask(tx, server.tenantId, root);
    await patchTask(tx, server.tenantId, waiting, { status: TaskStatus.CANCELLED });
    await patchTask(tx, server.tenantId, root, { status: TaskStatus.CANCELLED });
    retry = server.gql(`mutation($id: ID!) { retryTask(id: $id) { status } }`, {
      id: failed,
    } as never);
    await untilBlocked(server.graph, 'the retry to wait for the root', {
      name: 'id',
      value: failed,
    });
  });
  expect(await retry).toMatchObject({ data: { retryTask: { status: 'PENDING' } } });
  // As if the cancel came first: the retry reopens the root it cancelled.
  expect((await statusOf(root)).status).toBe('IN_PROGRESS');
});
