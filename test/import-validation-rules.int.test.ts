import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  type ImportData,
  at,
  int,
  documentOf,
  task,
  importInto,
} from './utils/import-documents.js';

/**
 * Issue 9: importOrganisation wrote any properties, so a tenant ADMIN could hand the shared
 * engine a READY step it could not read, and an import told whether an id existed in another
 * tenant. Every document now keeps the API's domain rules, and ids are re-minted alike. Here:
 * the domain rules (import-validation-ids.int.test.ts: ids of other organisations).
 */

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) =>
  res.errors?.[0]?.extensions?.code;
const messageOf = (res: { errors?: readonly { message: string }[] }) =>
  res.errors?.[0]?.message ?? '';

async function taskIds(server: TestServer): Promise<string[]> {
  const res = await server.gql(`query { tasks(first: 100) { nodes { id } } }`);
  expect(res.errors).toBeUndefined();
  return (res.data as { tasks: { nodes: { id: string }[] } }).tasks.nodes.map((t) => t.id);
}

describe('importOrganisation keeps the domain rules', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it("refuses the issue's attack (a READY URGENT orchestrated task without createdAt) and the tenant keeps working", async () => {
    const attack = {
      label: 'Task',
      id: randomUUID(),
      properties: {
        title: 'poison',
        status: 'READY',
        orchestrated: true,
        priority: 'URGENT',
        attempts: int(0),
        maxAttempts: int(3),
        version: int(1),
      },
    };
    for (const merge of [false, true]) {
      const res = await importInto(server, documentOf([attack]), merge);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(messageOf(res)).toContain(`nodes[0] (Task "${attack.id}")`);
      expect(messageOf(res)).toContain('nodes[0].properties.createdAt is missing');
      expect(res.errors?.[0]?.extensions).toMatchObject({
        field: 'nodes[0].properties.createdAt',
        index: 0,
      });
    }
    expect(await taskIds(server)).not.toContain(attack.id);

    // tasks, agents, node and startWorkflow all still answer.
    const agents = await server.gql(`mutation {
      createAgents(inputs: [{ name: "Operator", role: MASTER_OPERATOR }]) { id } }`);
    expect(agents.errors).toBeUndefined();
    const created = await server.gql(`mutation { createTask(input: { title: "Fine" }) { id } }`);
    expect(created.errors).toBeUndefined();
    const id = (created.data as { createTask: { id: string } }).createTask.id;
    expect(await taskIds(server)).toContain(id);
    const listed = await server.gql(`query { agents(first: 10) { nodes { name } } }`);
    expect(listed.errors).toBeUndefined();
    const node = await server.gql(`query { node(id: "${id}") { id } }`);
    expect(node.errors).toBeUndefined();
    const started = await server.gql(
      `mutation { startWorkflow(taskId: "${id}") { id orchestrated } }`,
    );
    expect(started.errors).toBeUndefined();
  });

  it.each([
    [
      'an agent role outside the enum',
      documentOf([
        {
          label: 'Agent',
          id: randomUUID(),
          properties: {
            name: 'Boss',
            role: 'KING',
            status: 'IDLE',
            active: true,
            version: int(1),
            createdAt: at,
            updatedAt: at,
          },
        },
      ]),
      'nodes[0].properties.role must be one of CHIEF_OF_STAFF, MASTER_OPERATOR, but got "KING"',
    ],
    [
      'a priority outside the enum',
      documentOf([task(randomUUID(), { priority: 'SOON' })]),
      'nodes[0].properties.priority must be one of LOW, MEDIUM, HIGH, URGENT',
    ],
    [
      'attempts that are not an integer',
      documentOf([task(randomUUID(), { attempts: 'none' })]),
      'nodes[0].properties.attempts must be an integer',
    ],
    [
      'a createdAt that is text, not a date-time',
      documentOf([task(randomUUID(), { createdAt: 'yesterday' })]),
      'nodes[0].properties.createdAt must be a date-time',
    ],
    [
      'an empty title',
      documentOf([task(randomUUID(), { title: '  ' })]),
      'nodes[0].properties.title must be 1 to 200 characters',
    ],
    [
      'a confidence above 1',
      documentOf([
        {
          label: 'Knowledge',
          id: randomUUID(),
          properties: { kind: 'FACT', content: 'x', confidence: 5, createdAt: at, updatedAt: at },
        },
      ]),
      'nodes[0].properties.confidence must be between 0 and 1, but got 5',
    ],
    [
      'a SUBTASK_OF edge to an entity',
      (() => {
        const t = randomUUID();
        const e = randomUUID();
        return documentOf(
          [task(t), { label: 'Entity', id: e, properties: { createdAt: at } }],
          [{ type: 'SUBTASK_OF', from: t, to: e, properties: {} }],
        );
      })(),
      'relationships[0]: SUBTASK_OF must go from Task to Task, but goes from Task',
    ],
    [
      'a READY orchestrated step under a parent that does not run',
      (() => {
        const parent = randomUUID();
        const step = randomUUID();
        return documentOf(
          [task(parent), task(step, { status: 'READY', orchestrated: true })],
          [{ type: 'SUBTASK_OF', from: step, to: parent, properties: {} }],
        );
      })(),
      'is orchestrated, but its parent is not',
    ],
    [
      'a READY step whose dependency has not ended',
      (() => {
        const [root, a, b] = [randomUUID(), randomUUID(), randomUUID()];
        const running = { status: 'IN_PROGRESS', orchestrated: true };
        return documentOf(
          [
            task(root, running),
            task(a, { orchestrated: true }),
            task(b, { status: 'READY', orchestrated: true }),
          ],
          [
            { type: 'SUBTASK_OF', from: a, to: root, properties: {} },
            { type: 'SUBTASK_OF', from: b, to: root, properties: {} },
            { type: 'DEPENDS_ON', from: b, to: a, properties: {} },
          ],
        );
      })(),
      'it is READY, but a task it DEPENDS_ON has not ended',
    ],
    [
      'an IN_PROGRESS step without a lease',
      documentOf([task(randomUUID(), { status: 'IN_PROGRESS', orchestrated: true })]),
      'is an IN_PROGRESS step without a lease',
    ],
  ])('refuses a document with %s, naming it, and writes nothing', async (_name, doc, message) => {
    const before = await taskIds(server);
    const res = await importInto(server, doc);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(messageOf(res)).toContain(message);
    expect(await taskIds(server)).toEqual(before);
  });

  it('refuses a name taken in the organisation, naming the node but not the name, and says merge cannot help', async () => {
    const copy = {
      label: 'Agent',
      id: randomUUID(),
      properties: {
        name: 'Operator',
        role: 'MASTER_OPERATOR',
        status: 'IDLE',
        active: true,
        version: int(1),
        createdAt: at,
        updatedAt: at,
      },
    };
    // Merge matches nodes by id: the same answer with it as without.
    for (const merge of [false, true]) {
      const res = await importInto(server, documentOf([copy]), merge);
      expect(codeOf(res)).toBe('CONFLICT');
      expect(messageOf(res)).toContain(
        `nodes[0].properties.name (Agent "${copy.id}") is a name another Agent of this organisation already has`,
      );
      expect(messageOf(res)).toContain('merge matches nodes by id, not by name');
      // Names are never repeated: the tenancy sweep imports another tenant's export.
      expect(JSON.stringify(res.errors)).not.toContain('Operator');
      expect(messageOf(res)).not.toContain(server.tenantId);
      expect(res.errors?.[0]?.extensions).toMatchObject({
        label: 'Agent',
        index: 0,
        id: copy.id,
        field: 'nodes[0].properties.name',
      });
    }

    // Two nodes of the document with one name: the second is named, with the first.
    const capability = (id: string) => ({
      label: 'Capability',
      id,
      properties: { name: 'twice', createdAt: at, updatedAt: at },
    });
    const [first, second] = [randomUUID(), randomUUID()];
    const twice = await importInto(server, documentOf([capability(first), capability(second)]));
    expect(codeOf(twice)).toBe('CONFLICT');
    expect(messageOf(twice)).toContain(
      `nodes[1].properties.name (Capability "${second}") is the name of nodes[0] (Capability "${first}") too`,
    );
    expect(JSON.stringify(twice.errors)).not.toContain('twice');
    expect(twice.errors?.[0]?.extensions).toMatchObject({ index: 1, id: second });
  });

  it('imports a consistent workflow: a running parent with a READY step', async () => {
    const [root, step] = [randomUUID(), randomUUID()];
    const res = await importInto(
      server,
      documentOf(
        [
          task(root, { status: 'IN_PROGRESS', orchestrated: true }),
          task(step, { status: 'READY', orchestrated: true }),
        ],
        [{ type: 'SUBTASK_OF', from: step, to: root, properties: {} }],
      ),
    );
    expect(res.errors).toBeUndefined();
    const result = (res.data as ImportData).importOrganisation;
    expect(result).toMatchObject({ nodesCreated: 2, relationshipsCreated: 1 });

    // A merge that ends the parent would strand the READY step below it: refused, nothing written.
    const stored = new Map([root, step].map((id, i) => [id, result.nodeIds[i]!]));
    const ended = task(stored.get(root)!, { status: 'COMPLETED', orchestrated: true });
    const merged = await importInto(server, documentOf([ended]), true);
    expect(codeOf(merged)).toBe('BAD_USER_INPUT');
    expect(messageOf(merged)).toContain(
      `Task "${stored.get(step)}": it is READY, but its parent is COMPLETED, not IN_PROGRESS`,
    );
    const parent = await server.gql(
      `query { node(id: "${stored.get(root)}") { ... on Task { status } } }`,
    );
    expect(parent.data).toEqual({ node: { status: 'IN_PROGRESS' } });
  });
});
