import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * README walk: startWorkflow on a root the engine had not moved yet (still PENDING, but already
 * orchestrated) succeeded again and published a second WORKFLOW_STARTED. A workflow is handed to
 * the engine once, by startWorkflow or by submitTask: a second start is a CONFLICT saying when.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

const start = (taskId: string) =>
  server.gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id status orchestrated } }`, {
    id: taskId,
  } as never);

async function createRoot(title: string): Promise<string> {
  const res = await server.gql(
    `mutation($t: String!) { createTask(input: { title: $t }) { id } }`,
    {
      t: title,
    } as never,
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { createTask: { id: string } }).createTask.id;
}

describe('startWorkflow', () => {
  it('refuses a second start of a workflow the engine has not moved yet, saying when', async () => {
    const id = await createRoot('started twice');
    const first = await start(id);
    expect(first.errors).toBeUndefined();
    expect(first.data).toMatchObject({ startWorkflow: { status: 'PENDING', orchestrated: true } });
    const before = Date.now();
    const second = await start(id);
    expect(second.errors?.[0], JSON.stringify(second)).toMatchObject({
      message: expect.stringMatching(
        new RegExp(`^Task ${id} was started already, at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z`),
      ),
      extensions: { code: 'CONFLICT', orchestratedAt: expect.any(String) },
    });
    expect(Date.parse(second.errors![0]!.extensions!.orchestratedAt as string)).toBeLessThanOrEqual(
      before,
    );
  });

  it('refuses to start a submitted task, which its Chief of Staff was given already', async () => {
    const chief = await server.gql(
      `mutation { createAgent(input: { name: "Chief", role: CHIEF_OF_STAFF }) { id } }`,
    );
    expect(chief.errors).toBeUndefined();
    const submitted = await server.gql(
      `mutation { submitTask(input: { title: "submitted, then started" }) { id } }`,
    );
    expect(submitted.errors).toBeUndefined();
    const id = (submitted.data as { submitTask: { id: string } }).submitTask.id;
    const res = await start(id);
    expect(res.errors?.[0], JSON.stringify(res)).toMatchObject({
      message: expect.stringContaining(`Task ${id} was started already, at `),
      extensions: { code: 'CONFLICT' },
    });
  });
});
