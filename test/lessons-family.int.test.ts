import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

// Task.family (issue 12): given, normalised, or derived from the root's title; steps carry their
// root's; startWorkflow(family) gives it to a whole tree.

describe('task families', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  const create = (inputs: object[]) =>
    server.gql<
      { createTasks: { id: string; key: string | null; family: string | null }[] },
      object
    >(
      `mutation ($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id key family } }`,
      { inputs },
    );

  it("derive a root's family from its title, and give its steps the root's unless given their own", async () => {
    const res = await create([
      { key: 'root', title: 'Ship order 4711 to Berlin' },
      { key: 'a', title: 'Weigh the parcels', parentKey: 'root' },
      { key: 'b', title: 'Book the courier', parentKey: 'a' },
      { key: 'c', title: 'Check customs', parentKey: 'root', family: 'Customs Checks' },
    ]);
    expect(res.errors).toBeUndefined();
    expect(Object.fromEntries(res.data!.createTasks.map((t) => [t.key, t.family]))).toEqual({
      root: 'ship-order-berlin',
      a: 'ship-order-berlin',
      b: 'ship-order-berlin',
      c: 'customs-checks',
    });
    // A step added later to an existing tree inherits too.
    const rootId = res.data!.createTasks[0]!.id;
    const later = await create([{ title: 'Send the invoice', parentId: rootId }]);
    expect(later.data!.createTasks[0]!.family).toBe('ship-order-berlin');
  });

  it('give a whole tree the family startWorkflow names', async () => {
    const res = await create([
      { key: 'root', title: 'Quarterly numbers' },
      { key: 'a', title: 'Collect the figures', parentKey: 'root' },
    ]);
    const [root, step] = res.data!.createTasks;
    const started = await server.gql<{ startWorkflow: { family: string } }, object>(
      `mutation ($id: ID!) { startWorkflow(taskId: $id, family: "Finance Report") { family } }`,
      { id: root!.id },
    );
    expect(started.errors).toBeUndefined();
    expect(started.data!.startWorkflow.family).toBe('finance-report');
    const read = await server.gql<{ task: { family: string } }, object>(
      `query ($id: ID!) { task(id: $id) { family } }`,
      { id: step!.id },
    );
    expect(read.data!.task.family).toBe('finance-report');
  });

  it('refuse a family without a letter or digit, naming what to fix', async () => {
    const res = await create([{ title: 'Anything', family: '---' }]);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/family must hold letters or digits/);
    const long = await server.gql(
      `mutation { submitTask(input: { title: "x", family: "${'a'.repeat(81)}" }) { id } }`,
    );
    expect(long.errors?.[0]?.message).toMatch(/family must be at most 80 characters, but got 81/);
  });
});
