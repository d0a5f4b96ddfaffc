import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockTask, patchTask } from '../graph/task.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * cancelTask against a task below it that ends meanwhile (task-work.int.test.ts: cancelling a
 * tree at rest). Cancelling reads which tasks below are unfinished, then locks and cancels
 * each; one that finished in between stays finished: its work was done.
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
