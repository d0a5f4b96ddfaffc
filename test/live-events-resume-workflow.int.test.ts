import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoExecutor } from '../src/engine/executor.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { graphql } from './generated/index.js';
import { startScheduler } from './utils/engine.js';
import { createPlan, startWorkflow } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe, type Subscription } from './utils/ws.js';

// Issue 14: a client that drops off in the middle of a running workflow and comes back with
// `after` gets exactly what a client that never left heard since, then the live rest.

const WorkflowWatch = graphql(`
  subscription WorkflowWatch($rootId: ID, $after: ID) {
    taskUpdated(rootId: $rootId, after: $after) {
      change
      task {
        id
        status
      }
    }
  }
`);

type Heard = { id: string; task: string; status: string };
type Watch = Subscription<{ taskUpdated: { task: { id: string; status: string } } }>;

/** Takes results off a subscription until `done` says stop; each with its event id. */
async function hear(sub: Watch, done: (h: Heard[]) => boolean, into: Heard[] = []) {
  while (!done(into)) {
    const r = await sub.waitForNext(20_000).catch((e: Error) => {
      throw new Error(`${e.message}; heard: ${JSON.stringify(into)}`);
    });
    expect(r.errors).toBeUndefined();
    into.push({
      id: r.extensions!.eventId as string,
      task: r.data!.taskUpdated.task.id,
      status: r.data!.taskUpdated.task.status,
    });
  }
  return into;
}

describe('resuming in the middle of a running workflow', { timeout: 180_000 }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  beforeAll(async () => {
    server = await startTestServer();
    const made = await server.gql(`mutation { createAgents(inputs: [
      { name: "Runner", role: MASTER_OPERATOR, capabilities: [{ name: "running" }] }
    ]) { id } }`);
    expect(made.errors).toBeUndefined();
    // Each step takes 400 ms: the workflow is still running when the client comes back.
    scheduler = startScheduler(server, echoExecutor(400));
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server?.stop();
  });

  it('replays exactly what a client that stayed heard since it left, then the live rest', async () => {
    const ids = await createPlan(server, [
      { key: 'root', title: 'Resume mid-run' },
      { key: 'a', parentKey: 'root', title: 'a' },
      { key: 'b', parentKey: 'root', title: 'b', dependsOnKeys: ['a'] },
      { key: 'c', parentKey: 'root', title: 'c', dependsOnKeys: ['b'] },
      { key: 'd', parentKey: 'root', title: 'd', dependsOnKeys: ['c'] },
    ]);
    const rootDone = (h: Heard[]) => h.some((e) => e.task === ids.root && e.status === 'COMPLETED');
    const control = (await subscribe(server, WorkflowWatch, { rootId: ids.root })) as Watch;
    const leaver = (await subscribe(server, WorkflowWatch, { rootId: ids.root })) as Watch;
    await startWorkflow(server, ids.root!);

    // The leaver hears the start of the run, then drops off.
    const before = await hear(leaver, (h) => h.length >= 3);
    await leaver.close();
    const lastSeen = before.at(-1)!.id;
    // The client that stayed hears more of the run meanwhile (the workflow is not over).
    const stayed = await hear(control, (h) => h.length >= before.length + 3);
    expect(rootDone(stayed)).toBe(false);

    const back = (await subscribe(server, WorkflowWatch, {
      rootId: ids.root,
      after: lastSeen,
    })) as Watch;
    await hear(control, rootDone, stayed);
    const since = stayed.slice(stayed.findIndex((e) => e.id === lastSeen) + 1);
    const resumed = await hear(back, (h) => h.length >= since.length);
    // Exactly the same events, in the same order: none missing, none twice.
    expect(resumed).toEqual(since);
    expect(new Set(resumed.map((e) => e.id)).size).toBe(resumed.length);
    // What the leaver heard before, plus what it heard on return, is all the stayer heard.
    expect([...before, ...resumed]).toEqual(stayed);
    // Nothing more comes after the root's end.
    await expect(back.waitForNext(500)).rejects.toThrow(/no subscription event/);
    await Promise.all([back.close(), control.close()]);
  });
});
