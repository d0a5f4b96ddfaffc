import { expect, it } from 'vitest';
import { StepError, type Executor } from '../src/engine/executor.js';
import { waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  eventually,
  inTenant,
  latch,
  startPlan,
  untilAborted,
  withScheduler,
} from './utils/engine-steps.js';
import type { TestServer } from './utils/server.js';

/*
 * The engine's rules for a workflow's tasks (a READY step's dependencies have ended and its
 * parent runs; a running step holds a lease; every step of a running parent is the engine's),
 * which importOrganisation already kept, hold for the mutations that change a workflow's tasks
 * by hand: each would have left a workflow waiting for good.
 */

const statusOf = async (server: TestServer, id: string) => {
  const res = await server.gql(`query($id: ID!) { task(id: $id) { status } }`, { id } as never);
  return (res.data as { task: { status: string } }).task.status;
};

it('refuses what would leave a running workflow unable to finish, and the workflow finishes', async () => {
  await inTenant(async (server) => {
    await createOperators(server, { Op: ['x'], Other: ['x'] });
    const gate = latch();
    const executor: Executor = async ({ task, signal }) => {
      if (task.title === 'slow') await Promise.race([gate.opened, untilAborted(signal)]);
      return { result: `done ${task.title}` };
    };
    await withScheduler(server, executor, async () => {
      const ids = await startPlan(server, [
        { key: 'root', title: 'root', failurePolicy: 'CONTINUE' },
        { key: 'a', title: 'slow', parentKey: 'root', requiredCapabilities: ['x'] },
        {
          key: 'b',
          title: 'b',
          parentKey: 'root',
          dependsOnKeys: ['a'],
          requiredCapabilities: ['x'],
        },
        // No agent has "nobody": the step stays READY, given back by every claim.
        { key: 'r', title: 'r', parentKey: 'root', requiredCapabilities: ['nobody'] },
      ]);
      await eventually(
        'a to run and r to wait',
        async () =>
          (await statusOf(server, ids.a!)) === 'IN_PROGRESS' &&
          (await statusOf(server, ids.r!)) === 'READY',
      );
      const refusals = [
        // A task the engine would never run, under a parent that waits for all its steps.
        await server.gql(
          `mutation($p: ID!) { createTask(input: { title: "late", parentId: $p }) { id } }`,
          { p: ids.root } as never,
        ),
        // READY before the step it depends on has ended: it would run out of order.
        await server.gql(`mutation($id: ID!) { setTaskStatus(id: $id, status: READY) { id } }`, {
          id: ids.b,
        } as never),
        // IN_PROGRESS without a lease: no worker would ever finish or take it back.
        await server.gql(
          `mutation($id: ID!) { setTaskStatus(id: $id, status: IN_PROGRESS) { id } }`,
          { id: ids.b } as never,
        ),
        // A READY step that now waits for an unfinished one.
        await server.gql(
          `mutation($id: ID!, $on: ID!) { addTaskDependency(id: $id, dependsOnId: $on) { id } }`,
          { id: ids.r, on: ids.b } as never,
        ),
        // A running step, past its dependencies: the engine would never wait for this one.
        await server.gql(
          `mutation($id: ID!, $on: ID!) { addTaskDependency(id: $id, dependsOnId: $on) { id } }`,
          { id: ids.a, on: ids.r } as never,
        ),
      ];
      for (const res of refusals) {
        expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0]?.message).toMatch(/a workflow the engine cannot run: Task "[^"]+" /);
      }
      // A dependency of a PENDING step on a task a person finishes is a gate, and allowed.
      const gateTask = await server.gql(
        `mutation { createTask(input: { title: "sign-off" }) { id } }`,
      );
      const gateId = (gateTask.data as { createTask: { id: string } }).createTask.id;
      const gated = await server.gql(
        `mutation($id: ID!, $on: ID!) { addTaskDependency(id: $id, dependsOnId: $on) { id } }`,
        { id: ids.b, on: gateId } as never,
      );
      expect(gated.errors).toBeUndefined();

      gate.open();
      await createOperators(server, { Late: ['nobody'] });
      await server.gql(
        `mutation($id: ID!) { setTaskStatus(id: $id, status: IN_PROGRESS) { id } }`,
        { id: gateId } as never,
      );
      await server.gql(`mutation($id: ID!) { setTaskStatus(id: $id, status: COMPLETED) { id } }`, {
        id: gateId,
      } as never);
      const tasks = await waitForWorkflow(
        server,
        ids.root!,
        (all) => all.find((t) => t.key === 'root')?.status !== 'IN_PROGRESS',
      );
      expect(Object.fromEntries(tasks.map((t) => [t.key, t.status]))).toEqual({
        root: 'COMPLETED',
        a: 'COMPLETED',
        b: 'COMPLETED',
        r: 'COMPLETED',
      });
    });
  });
}, 120_000);

it('refuses to retry a workflow that a task the engine never runs would hold open', async () => {
  await inTenant(async (server) => {
    await createOperators(server, { Op: ['x'] });
    let fail = true;
    const executor: Executor = async ({ task }) => {
      if (fail) throw new StepError('the input is wrong', false);
      return { result: `done ${task.title}` };
    };
    await withScheduler(server, executor, async () => {
      const ids = await startPlan(server, [
        { key: 'root', title: 'root' },
        { key: 'a', title: 'a', parentKey: 'root', requiredCapabilities: ['x'] },
      ]);
      await waitForWorkflow(server, ids.root!, (all) =>
        all.some((t) => t.key === 'root' && t.status === 'FAILED'),
      );
      // Under a workflow that has ended, a task of a person's own is allowed...
      const late = await server.gql(
        `mutation($p: ID!) { createTask(input: { title: "late", parentId: $p }) { id } }`,
        { p: ids.root } as never,
      );
      expect(late.errors).toBeUndefined();
      const lateId = (late.data as { createTask: { id: string } }).createTask.id;
      // ...but a retry would reopen the workflow with it: its root would wait for it for good.
      const RETRY = `mutation($id: ID!) { retryTask(id: $id) { status } }`;
      const refused = await server.gql(RETRY, { id: ids.root } as never);
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toContain(`Task "${lateId}", not orchestrated`);
      expect(await statusOf(server, ids.root!)).toBe('FAILED');

      fail = false;
      // Finished by hand, it no longer holds the workflow open (a cancelled one would cancel it).
      for (const status of ['IN_PROGRESS', 'COMPLETED']) {
        const SET = `mutation($id: ID!, $s: TaskStatus!) { setTaskStatus(id: $id, status: $s) { id } }`;
        await server.gql(SET, { id: lateId, s: status } as never);
      }
      expect((await server.gql(RETRY, { id: ids.root } as never)).errors).toBeUndefined();
      const tasks = await waitForWorkflow(server, ids.root!, (all) =>
        all.some((t) => t.key === 'root' && t.status === 'COMPLETED'),
      );
      expect(tasks.find((t) => t.key === 'a')?.status).toBe('COMPLETED');
    });
  });
}, 120_000);

// Walked by hand: a step set READY before startWorkflow ran before its dependency ended, and
// one set IN_PROGRESS held no lease, so its workflow stayed IN_PROGRESS for good.
it('refuses to start a workflow with a step set READY, running or waiting for input by hand', async () => {
  await inTenant(async (server) => {
    const create = async (round: string) => {
      const res = await server.gql(
        `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id key } }`,
        {
          inputs: [
            { key: 'root', title: `root ${round}` },
            { key: 'a', title: 'a', parentKey: 'root', requiresApproval: true },
            { key: 'b', title: 'b', parentKey: 'root', dependsOnKeys: ['a'] },
          ],
        } as never,
      );
      const made = (res.data as { createTasks: { id: string; key: string }[] }).createTasks;
      return Object.fromEntries(made.map((t) => [t.key, t.id])) as Record<string, string>;
    };
    const set = (id: string, status: string) =>
      server.gql(
        `mutation($id: ID!, $s: TaskStatus!) { setTaskStatus(id: $id, status: $s) { id } }`,
        {
          id,
          s: status,
        } as never,
      );
    const start = (id: string) =>
      server.gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, { id } as never);
    for (const path of [['READY'], ['IN_PROGRESS'], ['IN_PROGRESS', 'AWAITING_INPUT']]) {
      const ids = await create(path.join('-'));
      for (const status of path) expect((await set(ids.b!, status)).errors).toBeUndefined();
      const res = await start(ids.root!);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toBe(
        `startWorkflow needs a workflow's steps PENDING (or ended, or AWAITING_APPROVAL), but Task "${ids.b}" is ${path.at(-1)}: the engine moves them from PENDING; set it back to PENDING (or end it) first`,
      );
      expect(await statusOf(server, ids.root!)).toBe('PENDING');
      const orchestrated = await server.gql(`query($id: ID!) { task(id: $id) { orchestrated } }`, {
        id: ids.b,
      } as never);
      expect(orchestrated.data).toEqual({ task: { orchestrated: false } });
    }
  });
});
