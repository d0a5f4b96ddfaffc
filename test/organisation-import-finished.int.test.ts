import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentOf, importInto, task, type ImportData } from './utils/import-documents.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * importOrganisation with merge over tasks the organisation holds already: a merge reopened
 * tasks that had finished (their history rewritten by the document), and counted a task both
 * queued in the graph and named by the document twice against TENANT_MAX_QUEUED_STEPS.
 */

const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'];

describe('importOrganisation with merge over tasks it holds', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(
      undefined,
      {},
      undefined,
      {},
      { backlog: { maxQueuedSteps: 2 } },
    );
  });
  afterAll(() => server?.stop());

  /** Imports the tasks (no merge); returns the ids they were stored under. */
  async function imported(tasks: ReturnType<typeof task>[]): Promise<string[]> {
    const res = await importInto(server, documentOf(tasks));
    expect(res.errors).toBeUndefined();
    return (res.data as ImportData).importOrganisation.nodeIds;
  }

  const tasksOf = (ids: string[]) =>
    Promise.all(
      ids.map(async (id) => {
        const res = await server.gql(
          `query($id: ID!) { task(id: $id) { id status title result } }`,
          {
            id,
          } as never,
        );
        expect(res.errors).toBeUndefined();
        return (res.data as { task: object }).task;
      }),
    );

  it('keeps a task that finished as it is, and says which it kept', async () => {
    const ended = FINISHED.map((status) =>
      task(randomUUID(), { status, title: `Ended ${status}`, result: `kept ${status}` }),
    );
    const open = task(randomUUID(), { title: 'Open' });
    const ids = await imported([...ended, open]);

    // An older document: every task PENDING again, under another title.
    const older = ids.map((id, i) =>
      task(id, { title: `Older ${i}`, ...(i < FINISHED.length ? {} : { description: 'new' }) }),
    );
    const res = await importInto(server, documentOf(older), true);
    expect(res.errors).toBeUndefined();
    expect((res.data as ImportData).importOrganisation).toMatchObject({
      nodesCreated: 0,
      nodesUpdated: 1,
      finishedTasksKept: [0, 1, 2, 3],
    });
    expect(await tasksOf(ids)).toEqual([
      ...FINISHED.map((status, i) => ({
        id: ids[i],
        status,
        title: `Ended ${status}`,
        result: `kept ${status}`,
      })),
      { id: ids[4], status: 'PENDING', title: 'Older 4', result: null },
    ]);
  });

  it('counts a queued task the merge names once against TENANT_MAX_QUEUED_STEPS', async () => {
    const queued = () => task(randomUUID(), { orchestrated: true });
    const ids = await imported([queued(), queued()]);

    // The same two queued tasks again, retitled: nothing is added to the queue.
    const again = ids.map((id) => task(id, { orchestrated: true, title: 'Again' }));
    const res = await importInto(server, documentOf(again), true);
    expect(res.errors).toBeUndefined();
    expect((res.data as ImportData).importOrganisation).toMatchObject({ nodesUpdated: 2 });

    // One more queued task passes the cap: the two named again are not counted, the new one is.
    const more = await importInto(server, documentOf([...again, queued()]), true);
    expect(more.errors?.[0]?.extensions).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      count: 2,
      adding: 1,
      cap: 2,
    });
  });
});
