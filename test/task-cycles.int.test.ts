import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import { documentOf, importInto, task } from './utils/import-documents.js';

/*
 * No cycle of DEPENDS_ON or SUBTASK_OF edges, however the edges arrive (task-plans.int.test.ts:
 * one addTaskDependency at a time). Tasks on a cycle of dependencies never become READY, and
 * a workflow that holds them waits for good; a task that is its own ancestor has no root.
 */

const ADD = `mutation($id: ID!, $on: ID!) { addTaskDependency(id: $id, dependsOnId: $on) { id } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

type Four = Record<'a' | 'b' | 'c' | 'd', string>;

/** Tasks a -> b and c -> d (a depends on b, c on d), by key. */
async function twoPairs(round: number): Promise<Four> {
  const res = await server.gql(
    `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id key } }`,
    {
      inputs: [
        { key: 'b', title: `b ${round}` },
        { key: 'a', title: `a ${round}`, dependsOnKeys: ['b'] },
        { key: 'd', title: `d ${round}` },
        { key: 'c', title: `c ${round}`, dependsOnKeys: ['d'] },
      ],
    } as never,
  );
  expect(res.errors).toBeUndefined();
  const tasks = (res.data as { createTasks: { id: string; key: string }[] }).createTasks;
  return Object.fromEntries(tasks.map((t) => [t.key, t.id])) as Four;
}

/** Tasks of the tenant that are their own dependency or ancestor, through any path. */
async function tasksOnCycles(): Promise<number> {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: `MATCH (t:Task {tenantId: $tenantId})
               WHERE EXISTS { (t)-[:DEPENDS_ON*1..]->(t) } OR EXISTS { (t)-[:SUBTASK_OF*1..]->(t) }
               RETURN count(t) AS n`,
      params: { tenantId: server.tenantId },
    }),
  );
  return row!.n;
}

describe('dependencies added at once', () => {
  it('never close a cycle between them: one of two halves is refused', async () => {
    const rounds = await Promise.all(Array.from({ length: 12 }, (_, i) => twoPairs(i)));
    // b -> c and d -> a together make a -> b -> c -> d -> a; either alone is fine.
    const answers = await Promise.all(
      rounds.map(({ a, b, c, d }) =>
        Promise.all([
          server.gql(ADD, { id: b, on: c } as never),
          server.gql(ADD, { id: d, on: a } as never),
        ]),
      ),
    );
    for (const pair of answers) {
      const codes = pair.map((res) => res.errors?.[0]?.extensions?.code ?? 'OK').sort();
      expect(codes).toEqual(['BAD_USER_INPUT', 'OK']);
      expect(pair.find((res) => res.errors)!.errors![0]!.message).toMatch(/would make a cycle/);
    }
    expect(await tasksOnCycles()).toBe(0);
  });
});

describe('importOrganisation', () => {
  const edge = (type: string, from: string, to: string) => ({ type, from, to, properties: {} });

  it.each([
    [
      'DEPENDS_ON',
      (a: string, b: string, c: string) => [
        edge('DEPENDS_ON', a, b),
        edge('DEPENDS_ON', b, c),
        edge('DEPENDS_ON', c, a),
      ],
    ],
    ['SUBTASK_OF', (a: string, b: string) => [edge('SUBTASK_OF', a, b), edge('SUBTASK_OF', b, a)]],
    ['DEPENDS_ON', (a: string) => [edge('DEPENDS_ON', a, a)]],
  ])('refuses a document whose %s edges make a cycle, naming an edge of it', async (type, rels) => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const before = await server.gql(`query { tasks(first: 100) { totalCount } }`);
    const res = await importInto(server, documentOf([task(a), task(b), task(c)], rels(a, b, c)));
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(
      new RegExp(
        `^relationships\\[\\d\\] \\(${type} from Task "[^"]+" to Task "[^"]+"\\) closes a cycle with the edges of the document`,
      ),
    );
    expect(await server.gql(`query { tasks(first: 100) { totalCount } }`)).toEqual(before);
  });

  it('refuses an edge that closes a cycle with the edges the organisation already has', async () => {
    const { a: x, b: y } = await twoPairs(99);
    // x already depends on y: y -> x closes the cycle, though the document alone has none.
    const res = await importInto(server, documentOf([], [edge('DEPENDS_ON', y, x)]));
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toBe(
      `relationships[0] (DEPENDS_ON from Task "${y}" to Task "${x}") closes a cycle with the edges this organisation has: a task cannot depend on itself, directly or through others; remove one edge of the cycle`,
    );
    expect(await tasksOnCycles()).toBe(0);
  });
});

/*
 * A step starts after its parent starts, and a parent ends after its steps end: a step that
 * depends on a task above or below it in its own tree waits for itself, and its workflow stalls
 * IN_PROGRESS (or PENDING) for good. Walked by hand: both were accepted and never moved.
 */
describe('a dependency between a step and its own ancestor or descendant', () => {
  const CREATE = `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id key } }`;
  const START = `mutation($id: ID!) { startWorkflow(taskId: $id) { id status } }`;
  const STATUS = `query($id: ID!) { task(id: $id) { status } }`;
  const ids = async (inputs: object[]) => {
    const res = await server.gql(CREATE, { inputs } as never);
    expect(res.errors).toBeUndefined();
    const tasks = (res.data as { createTasks: { id: string; key: string }[] }).createTasks;
    return Object.fromEntries(tasks.map((t) => [t.key, t.id])) as Record<string, string>;
  };

  it.each([
    ['a step on its parent', [{ key: 's', title: 'Step', parentKey: 'r', dependsOnKeys: ['r'] }]],
    [
      'a root on a step two levels down',
      [
        { key: 'm', title: 'Middle', parentKey: 'r' },
        { key: 's', title: 'Step', parentKey: 'm' },
      ],
      ['s'],
    ],
    [
      'a step on a sibling that waits for the parent',
      [
        { key: 'm', title: 'Middle', parentKey: 'r', dependsOnKeys: ['s'] },
        { key: 'x', title: 'Inner', parentKey: 'm' },
        { key: 's', title: 'Step', parentKey: 'r', dependsOnKeys: ['x'] },
      ],
    ],
  ])('startWorkflow refuses %s, and nothing starts', async (_, steps, rootDeps = []) => {
    const t = await ids([{ key: 'r', title: 'Root', dependsOnKeys: rootDeps }, ...steps]);
    const res = await server.gql(START, { id: t.r } as never);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(
      /^startWorkflow would leave a workflow the engine cannot run: Task "[^"]+" depends on Task "[^"]+", which cannot end before it starts \(.*\); removeTaskDependency/,
    );
    const after = await server.gql(`query($id: ID!) { task(id: $id) { orchestrated } }`, {
      id: t.r,
    } as never);
    expect(after.data).toEqual({ task: { orchestrated: false } });
  });

  // A review of 2026-12-06: the check read the started workflow alone, so a wait through a
  // step of another running workflow got past it, and both stalled for good.
  it('startWorkflow refuses a wait through another running workflow', async () => {
    const one = await ids([
      { key: 'r', title: 'Root one' },
      { key: 's', title: 'Step one', parentKey: 'r' },
    ]);
    const two = await ids([
      { key: 'r', title: 'Root two' },
      { key: 's', title: 'Step two', parentKey: 'r' },
    ]);
    // Step one waits for step two, which waits for workflow one to end.
    expect((await server.gql(ADD, { id: one.s, on: two.s } as never)).errors).toBeUndefined();
    expect((await server.gql(ADD, { id: two.s, on: one.r } as never)).errors).toBeUndefined();
    // Alone, workflow one may start: a person may still end workflow two's tasks by hand.
    expect((await server.gql(START, { id: one.r } as never)).errors).toBeUndefined();
    const res = await server.gql(START, { id: two.r } as never);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(
      /^startWorkflow would leave a workflow the engine cannot run: Task "[^"]+" depends on Task "[^"]+"/,
    );
  });

  // A review of 2026-12-06: two workflows reached in the same round were read without the
  // dependencies between them, so a wait that closed through both got past the check.
  it('startWorkflow refuses a wait through two running workflows it depends on at once', async () => {
    const a = await ids([
      { key: 'r', title: 'Root A' },
      { key: 's', title: 'Step A', parentKey: 'r' },
    ]);
    const b = await ids([
      { key: 'r', title: 'Root B' },
      { key: 's', title: 'Step B', parentKey: 'r' },
      { key: 't', title: 'Other step B', parentKey: 'r' },
    ]);
    const w = await ids([
      { key: 'r', title: 'Root W' },
      { key: 'x', title: 'Step W x', parentKey: 'r' },
      { key: 'z', title: 'Step W z', parentKey: 'r' },
    ]);
    // x waits for A's step, which waits for B's step, which waits for W to end; z reaches B.
    for (const [id, on] of [
      [a.s, b.s],
      [b.s, w.r],
      [w.x, a.s],
      [w.z, b.t],
    ]) {
      expect((await server.gql(ADD, { id, on } as never)).errors).toBeUndefined();
    }
    expect((await server.gql(START, { id: b.r } as never)).errors).toBeUndefined();
    expect((await server.gql(START, { id: a.r } as never)).errors).toBeUndefined();
    const res = await server.gql(START, { id: w.r } as never);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(
      /^startWorkflow would leave a workflow the engine cannot run: Task "[^"]+" depends on Task "[^"]+"/,
    );
  });

  // A review of 2026-12-06: a cancelled workflow's steps were read as waits too, so a start that
  // depended on one was refused for a cycle the engine never waits on.
  it('startWorkflow reads no wait through a workflow that has ended', async () => {
    const f = await ids([
      { key: 'r', title: 'Root F' },
      { key: 'y', title: 'Step F y', parentKey: 'r' },
      { key: 'x', title: 'Step F x', parentKey: 'r', dependsOnKeys: ['y'] },
    ]);
    const w = await ids([
      { key: 'r', title: 'Root W' },
      { key: 's', title: 'Step W s', parentKey: 'r' },
    ]);
    expect((await server.gql(ADD, { id: f.y, on: w.r } as never)).errors).toBeUndefined();
    expect((await server.gql(ADD, { id: w.s, on: f.x } as never)).errors).toBeUndefined();
    expect((await server.gql(START, { id: f.r } as never)).errors).toBeUndefined();
    const cancel = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
    expect((await server.gql(cancel, { id: f.r } as never)).errors).toBeUndefined();
    const res = await server.gql(START, { id: w.r } as never);
    expect(res.errors).toBeUndefined();
  });

  it('addTaskDependency refuses a waiting step of a running workflow on its parent', async () => {
    const t = await ids([
      { key: 'r', title: 'Root' },
      { key: 'gate', title: 'Gate', parentKey: 'r', requiresApproval: true },
      { key: 's', title: 'Step', parentKey: 'r', dependsOnKeys: ['gate'] },
    ]);
    expect((await server.gql(START, { id: t.r } as never)).errors).toBeUndefined();
    const res = await server.gql(ADD, { id: t.s, on: t.r } as never);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain(
      `addTaskDependency would leave a workflow the engine cannot run: Task "${t.s}" depends on Task "${t.r}", which cannot end before it starts`,
    );
    const deps = await server.gql(`query($id: ID!) { task(id: $id) { dependencies { id } } }`, {
      id: t.s,
    } as never);
    expect(deps.data).toEqual({ task: { dependencies: [{ id: t.gate }] } });
    expect((await server.gql(STATUS, { id: t.s } as never)).data).toEqual({
      task: { status: 'PENDING' },
    });
  });
});
