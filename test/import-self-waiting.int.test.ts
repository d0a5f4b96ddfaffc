import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentOf, importInto, task } from './utils/import-documents.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * README walk: startWorkflow and addTaskDependency refuse a step that waits for its own
 * ancestor or descendant (the engine would stall on it), but importOrganisation took such a
 * workflow orchestrated, for the engine to run as it was. It is refused there too, naming both
 * tasks; a workflow not handed to the engine is taken (startWorkflow refuses it later).
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

const edge = (type: string, from: string, to: string) => ({ type, from, to, properties: {} });

/** A root with one step under it, handed to the engine or not, and `depends` among them. */
function workflow(orchestrated: boolean, depends: (root: string, step: string) => string[]) {
  const root = randomUUID();
  const step = randomUUID();
  const [from, to] = depends(root, step);
  const status = orchestrated ? 'IN_PROGRESS' : 'PENDING';
  return {
    root,
    step,
    doc: documentOf(
      [task(root, { status, orchestrated }), task(step, { orchestrated })],
      [edge('SUBTASK_OF', step, root), edge('DEPENDS_ON', from!, to!)],
    ),
  };
}

describe('importOrganisation', () => {
  it.each([
    ['its parent', (root: string, step: string) => [step, root]],
    ['its own step', (root: string, step: string) => [root, step]],
  ])('refuses a running workflow where a task depends on %s', async (_, depends) => {
    const { doc, root, step } = workflow(true, depends);
    const [from, to] = depends(root, step);
    const res = await importInto(server, doc);
    // Named by the document's ids: the stored ones were minted anew.
    expect(res.errors?.[0], JSON.stringify(res)).toMatchObject({
      message: expect.stringContaining(
        `importOrganisation would leave a workflow the engine cannot run: Task "${from}" depends on Task "${to}", which cannot end before it starts`,
      ),
      extensions: { code: 'BAD_USER_INPUT', id: from, dependsOnId: to },
    });
    const tasks = await server.gql(`query { tasks(first: 100) { nodes { id } } }`);
    expect((tasks.data as { tasks: { nodes: unknown[] } }).tasks.nodes).toEqual([]);
  });

  it('takes such a workflow not handed to the engine, and startWorkflow refuses it', async () => {
    const { doc } = workflow(false, (root, step) => [step, root]);
    const res = await importInto(server, doc);
    expect(res.errors).toBeUndefined();
    const { nodeIds } = (res.data as { importOrganisation: { nodeIds: string[] } })
      .importOrganisation;
    const started = await server.gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, {
      id: nodeIds[0],
    } as never);
    expect(started.errors?.[0]?.message).toMatch(/^startWorkflow would leave a workflow/);
  });
});
