import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startScriptedAgents } from './utils/engine.js';
import {
  at,
  documentOf,
  importInto,
  int,
  task,
  type ImportData,
} from './utils/import-documents.js';
import { startScriptedOpenAI } from './utils/openai-server.js';
import { operatorScript } from './utils/operator-script.js';
import { untilDone } from './utils/progress.js';
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

it('runs an imported fork that had not run from the start, with its message (its checkpoint is not exported)', async () => {
  const WHAT_IF = 'What if nickel doubled?';
  const scripted = await startScriptedOpenAI(
    operatorScript((req) => ({
      content: JSON.stringify(req.messages).includes(WHAT_IF) ? 'Read the message.' : 'No message.',
    })),
  );
  const [agent, capability, step, fork] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const res = await importInto(
    server,
    documentOf(
      [
        {
          label: 'Agent',
          id: agent,
          properties: {
            name: 'Nickel clerk',
            role: 'MASTER_OPERATOR',
            status: 'IDLE',
            active: true,
            version: int(1),
            createdAt: at,
            updatedAt: at,
          },
        },
        {
          label: 'Capability',
          id: capability,
          properties: { name: 'nickel', createdAt: at, updatedAt: at },
        },
        task(step, { status: 'COMPLETED', title: 'Price nickel', result: 'Original answer' }),
        task(fork, {
          status: 'READY',
          orchestrated: true,
          title: 'Fork of Price nickel',
          forkMessage: WHAT_IF,
          forkedFromRun: randomUUID(),
        }),
      ],
      [
        { type: 'FORK_OF', from: fork, to: step, properties: {} },
        { type: 'ASSIGNED_TO', from: fork, to: agent, properties: {} },
        { type: 'REQUIRES', from: fork, to: capability, properties: {} },
        {
          type: 'HAS_CAPABILITY',
          from: agent,
          to: capability,
          properties: { runs: int(0), successes: int(0) },
        },
      ],
    ),
  );
  expect(res.errors).toBeUndefined();
  const forkId = (res.data as ImportData).importOrganisation.nodeIds[3]!;
  const scheduler = startScriptedAgents(server, scripted.baseURL);
  try {
    const done = await untilDone({
      read: async () => {
        const read = await server.gql(`query($id: ID!) { task(id: $id) { status result } }`, {
          id: forkId,
        } as never);
        return (read.data as { task: { status: string; result: string | null } }).task;
      },
      done: (t) => t.status === 'COMPLETED' || t.status === 'FAILED',
      progress: (t) => t.status,
      stallMs: 60_000,
      what: 'the imported fork did not run',
    });
    expect(done).toEqual({ status: 'COMPLETED', result: 'Read the message.' });
  } finally {
    await scheduler.stop({ abort: true });
    await scripted.close();
  }
}, 240_000);
