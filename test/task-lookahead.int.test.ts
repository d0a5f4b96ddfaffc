import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';

/**
 * Issue 15: `task(id)` reads the relations its query selects in the statement that reads the
 * task (taskWithRelations), where it took one more round trip per relation. The answer must be
 * the one the batched loaders give (a list's items resolve through them).
 */
const FIELDS = `id title
  assignee { id name } assignment { score reason assignedAt agent { id } }
  parent { id title } subtasks { id title status } dependencies { id title } dependents { id }`;

describe('task(id) with its relations', () => {
  let server: TestServer;
  let other: TestServer;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    [server, other] = await Promise.all([startTestServer(), startTestServer()]);
    const agent = await server.gql<{ createAgents: { id: string }[] }, never>(
      `mutation { createAgents(inputs: [{ name: "Looker", role: MASTER_OPERATOR }]) { id } }`,
    );
    expect(agent.errors).toBeUndefined();
    const made = await server.gql<{ createTasks: { id: string; key: string }[] }, never>(
      `mutation { createTasks(inputs: [
        { key: "root", title: "Root" },
        { key: "d1", title: "First dependency", parentKey: "root" },
        { key: "d2", title: "Second dependency", parentKey: "root" },
        { key: "t", title: "The task", parentKey: "root", dependsOnKeys: ["d1", "d2"],
          assigneeId: "${agent.data!.createAgents[0]!.id}" },
        { key: "c1", title: "Child one", description: "First child", parentKey: "t" },
        { key: "c2", title: "Child two", description: "Second child", parentKey: "t" },
        { key: "x", title: "Waits for the task", parentKey: "root", dependsOnKeys: ["t"] }
      ]) { id key } }`,
    );
    expect(made.errors).toBeUndefined();
    for (const t of made.data!.createTasks) ids[t.key] = t.id;
    ids.agent = agent.data!.createAgents[0]!.id;
  });
  afterAll(() => Promise.all([server?.stop(), other?.stop()]));

  const one = (id: string) =>
    server.gql<{ task: Record<string, unknown> }, never>(
      `query { task(id: "${id}") { ${FIELDS} } }`,
    );

  it('answers as the batched loaders do, in one statement', async () => {
    const read = await one(ids.t!);
    expect(read.errors).toBeUndefined();
    const listed = await server.gql<{ tasks: { nodes: Record<string, unknown>[] } }, never>(
      `query { tasks(first: 50, filter: { parentId: "${ids.root}" }) { nodes { ${FIELDS} } } }`,
    );
    expect(listed.errors).toBeUndefined();
    const viaLoaders = listed.data!.tasks.nodes.find((n) => n.id === ids.t);
    expect(read.data!.task).toEqual(viaLoaders);
    // What the fixture built, so that equal answers are not two empty ones.
    expect(read.data!.task).toMatchObject({
      assignee: { name: 'Looker' },
      parent: { id: ids.root },
      dependents: [{ id: ids.x }],
    });
    const idsOf = (field: string) =>
      (read.data!.task[field] as { id: string }[]).map((d) => d.id).sort();
    expect(idsOf('subtasks')).toEqual([ids.c1, ids.c2].sort());
    expect(idsOf('dependencies')).toEqual([ids.d1, ids.d2].sort());

    expect(await statementsFor(server, () => one(ids.t!))).toBe(1);
  });

  it('reads of the assignee only the properties selected, when that is all it selects', async () => {
    const cypher: string[] = [];
    server.graph.onStatement = (q) => void cypher.push(q.cypher);
    type Assignee = { assignee: Record<string, unknown> };
    let narrow: Awaited<ReturnType<typeof server.gql<{ task: Assignee }, never>>>;
    try {
      narrow = await server.gql<{ task: Assignee }, never>(
        `query { task(id: "${ids.t}") { title assignee { id name } } }`,
      );
    } finally {
      server.graph.onStatement = undefined;
    }
    expect(narrow.errors).toBeUndefined();
    expect(narrow.data!.task.assignee).toEqual({ id: ids.agent, name: 'Looker' });
    expect(cypher.join('\n')).toContain(', a.id, a.name], r.score');
    // What one field read in part is its own: another field of the request gets all it selects.
    const both = await server.gql<Record<'a' | 'b', Assignee>, never>(
      `query { a: task(id: "${ids.t}") { assignee { id } }
               b: task(id: "${ids.t}") { assignee { id name role active } } }`,
    );
    expect(both.errors).toBeUndefined();
    expect(both.data!.a.assignee).toEqual({ id: ids.agent });
    expect(both.data!.b.assignee).toEqual({
      id: ids.agent,
      name: 'Looker',
      role: 'MASTER_OPERATOR',
      active: true,
    });
  });

  it('reads only the properties selected, of the task and of each relation', async () => {
    const cypher: string[] = [];
    server.graph.onStatement = (q) => void cypher.push(q.cypher);
    let answer: Awaited<ReturnType<typeof one>>;
    try {
      answer = await one(ids.t!);
    } finally {
      server.graph.onStatement = undefined;
    }
    expect(answer.errors).toBeUndefined();
    const statement = cypher.find((c) => c.includes('COLLECT'))!;
    // Nothing the query leaves out is read: no description or result of any task (`n` the
    // task, `m` a related one; the assignment's agent is read whole, `a`).
    const taskProperties = (v: string) =>
      [...statement.matchAll(new RegExp(`elementId\\(${v}\\)(?: END)?, ([^\\]]*)\\]`, 'g'))].map(
        (m) => m[1]!,
      );
    const read = [...taskProperties('n'), ...taskProperties('m')];
    expect(read).toContain('n.id, n.title'); // the task
    expect(read).toContain('m.id, m.title'); // the parent, dependencies
    expect(read).toContain('m.id'); // dependents { id }
    for (const properties of read) expect(properties).not.toMatch(/\.(description|result)\b/);

    // What one field read in part is its own: another field of the same request that selects
    // more of the same tasks gets all it selects.
    const both = await server.gql<Record<string, { subtasks: Record<string, unknown>[] }>, never>(
      `query { a: task(id: "${ids.t}") { subtasks { id } }
               b: task(id: "${ids.t}") { subtasks { id title description } } }`,
    );
    expect(both.errors).toBeUndefined();
    const described = both.data!.b!.subtasks.map((t) => t.description).sort();
    expect(described).toEqual(['First child', 'Second child']);
    expect(both.data!.a!.subtasks.map((t) => Object.keys(t))).toEqual([['id'], ['id']]);
  });

  it('reads a task without relations, or several, in one batched statement', async () => {
    const plain = () =>
      server.gql(`query { a: task(id: "${ids.d1}") { id } b: task(id: "${ids.d2}") { id } }`);
    expect((await plain()).errors).toBeUndefined();
    expect(await statementsFor(server, plain)).toBe(1);
  });

  it('answers NOT_FOUND for an unknown id and for another tenant’s, alike', async () => {
    const unknown = await one('00000000-0000-4000-8000-000000000000');
    const foreign = await other.gql(`query { task(id: "${ids.t}") { ${FIELDS} } }`);
    for (const answer of [unknown, foreign]) {
      expect(answer.data ?? null).toBeNull();
      expect(answer.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect(foreign.errors?.[0]?.message).toBe(
      unknown.errors?.[0]?.message.replace('00000000-0000-4000-8000-000000000000', ids.t!),
    );
  });
});
