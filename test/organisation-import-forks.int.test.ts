import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { documentOf, importInto, task, type ImportData } from './utils/import-documents.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * A fork is (fork)-[:FORK_OF]->(step) and -[:FORKED_FROM]->(:Checkpoint); the export carries
 * FORK_OF but leaves checkpoints out, so an imported fork must still say what it forks.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

interface Linked {
  forkOf: { id: string } | null;
  forks: { id: string }[];
}

const linksOf = async (id: string): Promise<Linked> => {
  const res = await server.gql(`query($id: ID!) { task(id: $id) { forkOf { id } forks { id } } }`, {
    id,
  } as never);
  expect(res.errors).toBeUndefined();
  return (res.data as { task: Linked }).task;
};

it('keeps forkOf and forks of an imported fork, whose checkpoint the export leaves out', async () => {
  const [step, fork] = [randomUUID(), randomUUID()];
  const res = await importInto(
    server,
    documentOf(
      [
        task(step, { status: 'COMPLETED', result: 'Original answer' }),
        task(fork, {
          status: 'COMPLETED',
          result: 'Forked answer',
          forkMessage: 'What if?',
          forkedFromRun: randomUUID(),
        }),
      ],
      [{ type: 'FORK_OF', from: fork, to: step, properties: {} }],
    ),
  );
  expect(res.errors).toBeUndefined();
  const [stepId, forkId] = (res.data as ImportData).importOrganisation.nodeIds;
  expect(await linksOf(forkId!)).toEqual({ forkOf: { id: stepId }, forks: [] });
  expect(await linksOf(stepId!)).toEqual({ forkOf: null, forks: [{ id: forkId }] });
});
