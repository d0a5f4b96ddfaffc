import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 9: importOrganisation wrote any properties, so a tenant ADMIN could hand the shared
 * engine a READY step it could not read, and an import told whether an id existed in another
 * tenant. Every document now keeps the API's domain rules, and ids are re-minted alike.
 */

const IMPORT = `mutation($document: JSONObject!, $merge: Boolean) {
  importOrganisation(document: $document, merge: $merge) {
    nodesCreated nodesUpdated relationshipsCreated nodeIds
  }
}`;

interface ImportData {
  importOrganisation: {
    nodesCreated: number;
    nodesUpdated: number;
    relationshipsCreated: number;
    nodeIds: string[];
  };
}

const at = { $datetime: '2024-05-01T10:20:30Z' };
const int = (n: number) => ({ $int: n });

function documentOf(nodes: unknown[], relationships: unknown[] = []) {
  return { format: 'agent-platform/organisation', version: 1, nodes, relationships };
}

/** A task with every property the API writes. */
function task(id: string, props: Record<string, unknown> = {}) {
  return {
    label: 'Task',
    id,
    properties: {
      title: 'Imported',
      priority: 'MEDIUM',
      status: 'PENDING',
      attempts: int(0),
      maxAttempts: int(3),
      orchestrated: false,
      version: int(1),
      createdAt: at,
      updatedAt: at,
      ...props,
    },
  };
}

async function importInto(server: TestServer, document: unknown, merge = false) {
  return server.gql(IMPORT, { document, merge } as never);
}

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

  it('refuses a name taken in the organisation without repeating it', async () => {
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
    const res = await importInto(server, documentOf([copy]));
    expect(codeOf(res)).toBe('CONFLICT');
    expect(messageOf(res)).toContain('names are unique per organisation');
    expect(messageOf(res)).not.toContain('Operator');
    expect(messageOf(res)).not.toContain(server.tenantId);
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

describe('importOrganisation and ids of other organisations', () => {
  let attacker: TestServer;
  let victim: TestServer;
  let victimAgentId: string;
  beforeAll(async () => {
    attacker = await startTestServer();
    victim = await startTestServer();
    const res = await victim.gql(`mutation {
      createAgents(inputs: [{ name: "Secret", role: MASTER_OPERATOR }]) { id } }`);
    expect(res.errors).toBeUndefined();
    victimAgentId = (res.data as { createAgents: { id: string }[] }).createAgents[0]!.id;
  });
  afterAll(async () => {
    await attacker?.stop();
    await victim?.stop();
  });

  /** The answer with the document's id and the stored ids replaced: what may differ by design. */
  function shape(res: Awaited<ReturnType<typeof importInto>>, documentId: string) {
    const data = res.data as ImportData | undefined;
    return {
      errors: res.errors?.map((e) => ({
        code: e.extensions?.code,
        message: e.message.replaceAll(documentId, '<id>'),
      })),
      result: data && {
        ...data.importOrganisation,
        nodeIds: data.importOrganisation.nodeIds.map((id) => (id === documentId ? '<id>' : 'new')),
      },
    };
  }

  it('gives a foreign id the same answer as a fresh one, with and without merge', async () => {
    for (const merge of [false, true]) {
      const answers = [];
      for (const id of [victimAgentId, randomUUID()]) {
        const doc = documentOf([
          {
            label: 'Knowledge',
            id,
            properties: { kind: 'FACT', content: 'probe', createdAt: at, updatedAt: at },
          },
        ]);
        const res = await importInto(attacker, doc, merge);
        expect(res.errors).toBeUndefined();
        answers.push(shape(res, id));
        // Neither id names a node the attacker can read: both were stored under new ids.
        const node = await attacker.gql(`query { node(id: "${id}") { id } }`);
        expect(node.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
        const [stored] = (res.data as ImportData).importOrganisation.nodeIds;
        expect(stored).not.toBe(id);
        expect(
          (await attacker.gql(`query { node(id: "${stored}") { id } }`)).errors,
        ).toBeUndefined();
      }
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]!.result).toMatchObject({ nodesCreated: 1, nodesUpdated: 0 });
    }
    // The victim's agent is untouched.
    const own = await victim.gql(
      `query { node(id: "${victimAgentId}") { ... on Agent { name } } }`,
    );
    expect(own.data).toEqual({ node: { name: 'Secret' } });
  });

  it('keeps none of the ids of a document signed for another organisation', async () => {
    const exported = await victim.gql(`query { exportOrganisation }`);
    expect(exported.errors).toBeUndefined();
    const doc = (exported.data as { exportOrganisation: { nodes: { id: string }[] } })
      .exportOrganisation;
    const res = await importInto(attacker, doc);
    expect(res.errors).toBeUndefined();
    const stored = (res.data as ImportData).importOrganisation.nodeIds;
    expect(stored).toHaveLength(doc.nodes.length);
    expect(stored.filter((id) => doc.nodes.some((n) => n.id === id))).toEqual([]);
  });

  it('points id-holding properties at re-minted ids: messages by conversation and usage by task still add up', async () => {
    const [conv, msg, t, agent, run, call] = [1, 2, 3, 4, 5, 6].map(() => randomUUID()) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const doc = documentOf(
      [
        {
          label: 'Conversation',
          id: conv,
          properties: { messageCount: int(1), createdAt: at, updatedAt: at },
        },
        {
          label: 'Message',
          id: msg,
          properties: {
            kind: 'CHAT',
            content: 'moved',
            conversationId: conv,
            seq: int(1),
            createdAt: at,
          },
        },
        task(t, { status: 'COMPLETED' }),
        {
          label: 'Agent',
          id: agent,
          properties: {
            name: `Mover ${agent}`,
            role: 'MASTER_OPERATOR',
            status: 'IDLE',
            active: true,
            version: int(1),
            createdAt: at,
            updatedAt: at,
          },
        },
        {
          label: 'Run',
          id: run,
          properties: {
            status: 'SUCCEEDED',
            attempt: int(1),
            startedAt: at,
            createdAt: at,
            updatedAt: at,
          },
        },
        {
          label: 'LLMCall',
          id: call,
          properties: {
            runId: run,
            taskId: t,
            agentId: agent,
            promptTokens: int(5),
            completionTokens: int(2),
            totalTokens: int(7),
            costUsd: 0.5,
            createdAt: at,
            updatedAt: at,
          },
        },
      ],
      [
        { type: 'IN', from: msg, to: conv, properties: {} },
        { type: 'OF', from: run, to: t, properties: {} },
        { type: 'BY', from: run, to: agent, properties: {} },
        { type: 'CALLED', from: run, to: call, properties: {} },
      ],
    );
    const res = await importInto(victim, doc, true);
    expect(res.errors).toBeUndefined();
    const [newConv, , newTask] = (res.data as ImportData).importOrganisation.nodeIds;
    expect(newConv).not.toBe(conv); // not this organisation's signed export: re-minted

    const read = await victim.gql(
      `query($c: ID!, $t: ID!) {
        messages(filter: { conversationId: $c }) { nodes { content } }
        task(id: $t) { llmUsage { calls totalTokens costUsd } }
      }`,
      { c: newConv, t: newTask } as never,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({
      messages: { nodes: [{ content: 'moved' }] },
      task: { llmUsage: { calls: 1, totalTokens: 7, costUsd: 0.5 } },
    });
  });
});
