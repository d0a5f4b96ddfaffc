import { saveA2ATask } from '../graph/a2a-task.repository.js';
import { holdForInput } from '../graph/tool-approval.repository.js';
import { recordToolCall } from '../graph/tool-server.repository.js';
import { ToolCallStatus } from '../src/domain/tool-server.js';
import { writeEvaluation } from '../graph/evaluation.repository.js';
import { recordTransition } from '../graph/transition.repository.js';
import { EvaluationSource } from '../src/domain/evaluation.js';
import { Role } from '../src/domain/auth.js';
import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { statementName } from '../graph/statement-name.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { OrganisationDocument } from '../src/domain/organisation-export.js';
import { startTestServer, type TestServer } from './utils/server.js';

const ExportOrganisation = graphql(`
  query ExportOrganisation {
    exportOrganisation
  }
`);

const ImportOrganisation = graphql(`
  mutation ImportOrganisation($document: JSONObject!, $merge: Boolean) {
    importOrganisation(document: $document, merge: $merge) {
      nodesCreated
      nodesUpdated
      relationshipsCreated
      nodeIds
    }
  }
`);

const DeleteOrganisation = graphql(`
  mutation DeleteOrganisation($confirm: String!) {
    deleteOrganisation(confirm: $confirm) {
      nodesDeleted
    }
  }
`);

const OrgCreateAgents = graphql(`
  mutation OrgCreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

const OrgCreateTasks = graphql(`
  mutation OrgCreateTasks($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
      title
    }
  }
`);

const OrgSendMessage = graphql(`
  mutation OrgSendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      id
      conversation {
        id
      }
    }
  }
`);

const OrgRecordKnowledge = graphql(`
  mutation OrgRecordKnowledge($input: RecordKnowledgeInput!) {
    recordKnowledge(input: $input) {
      id
    }
  }
`);

type Doc = OrganisationDocument;

const createdAt = { $datetime: '2024-05-01T10:20:30Z' };

async function exportOf(server: TestServer): Promise<Doc> {
  const res = await server.gql(ExportOrganisation);
  expect(res.errors).toBeUndefined();
  return res.data!.exportOrganisation as Doc;
}

async function importInto(server: TestServer, document: unknown, merge?: boolean) {
  return server.gql(ImportOrganisation, { document, merge });
}

function codeOf(res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) {
  return res.errors?.[0]?.extensions?.code;
}

function messageOf(res: { errors?: readonly { message: string }[] }) {
  return res.errors?.[0]?.message ?? '';
}

/** An agents-tasks-messages-knowledge organisation built through the API, plus runs by Cypher. */
async function buildOrganisation(server: TestServer) {
  const agents = await server.gql(OrgCreateAgents, {
    inputs: [
      { name: 'Chief', role: 'CHIEF_OF_STAFF', capabilities: [{ name: 'planning' }] },
      {
        name: 'Researcher',
        role: 'MASTER_OPERATOR',
        model: 'offline',
        capabilities: [{ name: 'research', proficiency: 0.9 }, { name: 'writing' }],
      },
      { name: 'Writer', role: 'MASTER_OPERATOR', capabilities: [{ name: 'writing' }] },
    ],
  });
  expect(agents.errors).toBeUndefined();
  const [chief, researcher, writer] = agents.data!.createAgents;

  const tasks = await server.gql(OrgCreateTasks, {
    inputs: [
      { key: 'launch', title: 'Launch', description: 'the whole thing', priority: 'HIGH' },
      {
        key: 'research',
        parentKey: 'launch',
        title: 'Research',
        requiredCapabilities: ['research'],
        assigneeId: researcher!.id,
        delegatedById: chief!.id,
      },
      {
        key: 'write',
        parentKey: 'launch',
        title: 'Write',
        dependsOnKeys: ['research'],
        requiredCapabilities: ['writing'],
        assigneeId: writer!.id,
      },
    ],
  });
  expect(tasks.errors).toBeUndefined();
  const [launch, research] = tasks.data!.createTasks;

  const first = await server.gql(OrgSendMessage, {
    input: {
      content: 'Please start the research',
      fromAgentId: chief!.id,
      toAgentIds: [researcher!.id],
      aboutTaskId: research!.id,
      conversationTitle: 'Launch planning',
    },
  });
  expect(first.errors).toBeUndefined();
  const reply = await server.gql(OrgSendMessage, {
    input: {
      content: 'On it',
      fromAgentId: researcher!.id,
      toAgentIds: [chief!.id],
      conversationId: first.data!.sendMessage.conversation.id,
    },
  });
  expect(reply.errors).toBeUndefined();

  const fact = await server.gql(OrgRecordKnowledge, {
    input: {
      content: 'Launches go better with a checklist',
      kind: 'LESSON',
      confidence: 0.8,
      tags: ['launch', 'process'],
      agentId: researcher!.id,
      taskId: research!.id,
    },
  });
  expect(fact.errors).toBeUndefined();
  const better = await server.gql(OrgRecordKnowledge, {
    input: {
      content: 'Launches go better with a checklist and a dry run',
      supersedesId: fact.data!.recordKnowledge.id,
      agentId: chief!.id,
    },
  });
  expect(better.errors).toBeUndefined();

  // Kinds without mutations yet, with every value kind the format carries.
  await server.graph.write((tx) =>
    tx.run({
      cypher: `
        MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId}),
              (k:Knowledge {tenantId: $tenantId, id: $knowledgeId})
        CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'SUCCEEDED', attempt: 1,
                       startedAt: datetime('2024-05-01T10:20:30.123456789Z'),
                       endedAt: datetime('2024-05-01T12:20:30.5+02:00[Europe/Paris]'),
                       createdAt: datetime(), updatedAt: datetime()})
        CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)
        CREATE (r)-[:CALLED {order: 1}]->(:LLMCall {id: randomUUID(), tenantId: $tenantId,
                 provider: 'offline', model: 'offline-1', purpose: 'plan', promptTokens: 120,
                 completionTokens: 30, costUsd: 0.0, latencyMs: 12.5, big: 9007199254740991,
                 negative: -42, ratio: 0.0 / 0.0, ceiling: 1.0 / 0.0, floor: -1.0 / 0.0,
                 samples: [1, 2, 3], weights: [0.5, 1.0], flags: [true, false], empty: [],
                 seen: [datetime('2024-01-01T00:00:00-05:30'), datetime('+12345-01-01T00:00:00Z')],
                 createdAt: datetime(), updatedAt: datetime()})
        CREATE (k)-[:MENTIONS]->(:Entity {id: randomUUID(), tenantId: $tenantId, name: 'checklist',
                 type: 'CONCEPT', createdAt: datetime()})
        CREATE (k)-[:APPLIED_IN]->(r)
        CREATE (a)-[:HAS_VERSION]->(v1:AgentVersion {id: randomUUID(), tenantId: $tenantId,
                 version: 1, systemPrompt: 'You research.', reason: 'created', createdAt: datetime()})
        CREATE (a)-[:HAS_VERSION]->(v2:AgentVersion {id: randomUUID(), tenantId: $tenantId,
                 version: 2, systemPrompt: 'You research carefully.', reason: 'lessons',
                 createdAt: datetime()})-[:EVOLVED_FROM {at: datetime()}]->(v1)
        // Not part of an organisation: never exported, never deleted by deleteOrganisation.
        CREATE (:AuditEvent {id: randomUUID(), tenantId: $tenantId, operation: 'seed'})-[:ABOUT]->(a)`,
      params: {
        tenantId: server.tenantId,
        taskId: research!.id,
        agentId: researcher!.id,
        knowledgeId: better.data!.recordKnowledge.id,
      },
    }),
  );
  return { chief: chief!, researcher: researcher!, launch: launch!, research: research! };
}

async function auditEvents(server: TestServer): Promise<number> {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: "MATCH (e:AuditEvent {tenantId: $tenantId, operation: 'seed'}) RETURN count(e) AS n",
      params: { tenantId: server.tenantId },
    }),
  );
  return row!.n;
}

describe('organisation export and import', () => {
  let server: TestServer;
  let other: TestServer;
  let original: Doc;
  let otherOriginal: Doc;
  let org: Awaited<ReturnType<typeof buildOrganisation>>;

  beforeAll(async () => {
    server = await startTestServer();
    other = await startTestServer();
    org = await buildOrganisation(server);
    const res = await other.gql(OrgCreateAgents, {
      inputs: [{ name: 'Chief', role: 'CHIEF_OF_STAFF', capabilities: [{ name: 'planning' }] }],
    });
    expect(res.errors).toBeUndefined();
    original = await exportOf(server);
    otherOriginal = await exportOf(other);
  });
  afterAll(async () => {
    await server?.stop();
    await other?.stop();
  });

  it('exports every kind of node with all properties, encoded, and no tenant ids', () => {
    expect(original.format).toBe('agent-platform/organisation');
    expect(original.version).toBe(1);
    const labels = new Set(original.nodes.map((n) => n.label));
    expect([...labels].sort()).toEqual(
      [
        'Agent',
        'AgentVersion',
        'Capability',
        'Conversation',
        'Entity',
        'Knowledge',
        'LLMCall',
        'Message',
        'Run',
        'Task',
      ].sort(),
    );
    expect(JSON.stringify(original)).not.toContain(server.tenantId);
    for (const n of original.nodes) {
      expect(n.properties).not.toHaveProperty('id');
      expect(n.properties).not.toHaveProperty('tenantId');
    }

    const researcher = original.nodes.find((n) => n.id === org.researcher.id)!;
    expect(researcher.properties).toMatchObject({
      name: 'Researcher',
      role: 'MASTER_OPERATOR',
      active: true,
      model: 'offline',
      version: { $int: 1 },
      createdAt: { $datetime: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) },
    });
    const call = original.nodes.find((n) => n.label === 'LLMCall')!;
    expect(call.properties).toEqual(
      expect.objectContaining({
        promptTokens: { $int: 120 },
        costUsd: 0,
        latencyMs: 12.5,
        big: { $int: 9007199254740991 },
        negative: { $int: -42 },
        ratio: { $float: 'NaN' },
        ceiling: { $float: 'Infinity' },
        floor: { $float: '-Infinity' },
        samples: [{ $int: 1 }, { $int: 2 }, { $int: 3 }],
        weights: [0.5, 1],
        flags: [true, false],
        empty: [],
        seen: [{ $datetime: '2024-01-01T00:00:00-05:30' }, { $datetime: '+12345-01-01T00:00:00Z' }],
      }),
    );
    const run = original.nodes.find((n) => n.label === 'Run')!;
    expect(run.properties.startedAt).toEqual({ $datetime: '2024-05-01T10:20:30.123456789Z' });
    expect(run.properties.endedAt).toEqual({
      $datetime: '2024-05-01T12:20:30.5+02:00[Europe/Paris]',
    });
    const knowledge = original.nodes.find(
      (n) => n.label === 'Knowledge' && n.properties.kind === 'LESSON',
    );
    expect(knowledge?.properties.tags).toEqual(['launch', 'process']);
  });

  it('exports the relationships between the tenant nodes, with their properties', () => {
    const types = new Set(original.relationships.map((r) => r.type));
    for (const t of [
      'HAS_CAPABILITY',
      'SUBTASK_OF',
      'DEPENDS_ON',
      'REQUIRES',
      'ASSIGNED_TO',
      'DELEGATED_BY',
      'SENT',
      'TO',
      'IN',
      'ABOUT',
      'CONTRIBUTED_BY',
      'LEARNED_FROM',
      'SUPERSEDES',
      'MENTIONS',
      'OF',
      'BY',
      'CALLED',
      'APPLIED_IN',
      'HAS_VERSION',
      'EVOLVED_FROM',
    ]) {
      expect(types, t).toContain(t);
    }
    const cap = original.relationships.find(
      (r) => r.type === 'HAS_CAPABILITY' && r.from === org.researcher.id,
    )!;
    expect(cap.properties).toMatchObject({ runs: { $int: 0 }, avgLatencyMs: 0 });
    // The audit event's ABOUT edge is not part of the organisation.
    const ids = new Set(original.nodes.map((n) => n.id));
    for (const r of original.relationships) {
      expect(ids.has(r.from) && ids.has(r.to)).toBe(true);
    }
  });

  it('is in canonical order, so two exports are identical', async () => {
    const sortedNodes = [...original.nodes].sort((a, b) =>
      a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : 1,
    );
    expect(original.nodes).toEqual(sortedNodes);
    expect(await exportOf(server)).toEqual(original);
  });

  it("never shows another tenant's nodes", () => {
    const mine = new Set(original.nodes.map((n) => n.id));
    // Its one agent, that agent's version 1 (issue 12: createAgent makes it) and its capability.
    expect(otherOriginal.nodes.map((n) => n.label).sort()).toEqual([
      'Agent',
      'AgentVersion',
      'Capability',
    ]);
    for (const n of otherOriginal.nodes) expect(mine.has(n.id)).toBe(false);
  });

  it('refuses deleteOrganisation with the wrong confirm and deletes nothing', async () => {
    const res = await server.gql(DeleteOrganisation, { confirm: 'yes' });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(messageOf(res)).toContain(`confirm must be this organisation's id "${server.tenantId}"`);
    const wrongTenant = await server.gql(DeleteOrganisation, { confirm: other.tenantId });
    expect(codeOf(wrongTenant)).toBe('BAD_USER_INPUT');
    expect(await exportOf(server)).toEqual(original);
    expect(await exportOf(other)).toEqual(otherOriginal);
  });

  it('round-trips: export, delete, import, export gives an identical document', async () => {
    // Learning records hang off the organisation's runs and versions (issue 12): not exported,
    // but deleted with it, never left dangling.
    const runId = original.nodes.find((n) => n.label === 'Run')!.id;
    const versionId = original.nodes.find((n) => n.label === 'AgentVersion')!.id;
    await server.graph.write(async (tx) => {
      await writeEvaluation(tx, {
        id: `evaluation-of-${runId}`,
        tenantId: server.tenantId,
        subjectLabel: 'Run',
        subjectId: runId,
        source: EvaluationSource.PERSON,
        score: 0.9,
        rubric: 'a person',
        reasons: [],
        comment: null,
        by: 'seed',
        offline: false,
      });
      await recordTransition(tx, {
        tenantId: server.tenantId,
        subjectLabel: 'AgentVersion',
        subjectId: versionId,
        from: null,
        to: 'LIVE',
        reason: 'seed',
        actor: 'PLATFORM',
      });
      // A tool call held for a person (issue 13) hangs off the run too.
      const [task] = await tx.run<{ id: string }>({
        cypher: 'MATCH (:Run {tenantId: $tenantId, id: $runId})-[:OF]->(t:Task) RETURN t.id AS id',
        params: { tenantId: server.tenantId, runId },
      });
      await holdForInput(tx, {
        tenantId: server.tenantId,
        taskId: task!.id,
        runId,
        calls: [{ callId: 'call_seed', tool: 'ask_agent', args: '{}' }],
      });
      // So does an outside tool's call (issue 16), and an A2A task follows the root task.
      await recordToolCall(tx, {
        id: `tool-call-of-${runId}`,
        tenantId: server.tenantId,
        runId,
        taskId: task!.id,
        agentId: 'seed-agent',
        serverId: 'seed-server',
        server: 'seed',
        tool: 'lookup',
        callId: 'call_seed',
        args: '{}',
        resultSummary: 'ok',
        resultChars: 2,
        truncated: false,
        durationMs: 1,
        status: ToolCallStatus.OK,
        error: null,
        startedAt: new Date().toISOString(),
      });
      await saveA2ATask(tx, {
        id: `a2a-of-${runId}`,
        tenantId: server.tenantId,
        contextId: 'seed',
        taskId: task!.id,
        json: '{}',
      });
    });
    const records = async () => {
      const [row] = await server.graph.read((tx) =>
        tx.run<{ n: number }>({
          cypher:
            'MATCH (n {tenantId: $tenantId}) WHERE n:Evaluation OR n:Transition OR n:ToolCallRequest OR n:ToolCall OR n:A2ATask RETURN count(n) AS n',
          params: { tenantId: server.tenantId },
        }),
      );
      return row!.n;
    };
    // The five above, and the transitions of the versions createAgent made.
    const recordsBefore = await records();
    expect(recordsBefore).toBeGreaterThanOrEqual(5);
    const deleted = await server.gql(DeleteOrganisation, { confirm: server.tenantId });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteOrganisation.nodesDeleted).toBe(
      original.nodes.length + recordsBefore,
    );
    expect((await exportOf(server)).nodes).toEqual([]);
    expect(await records()).toBe(0);
    expect(await auditEvents(server)).toBe(1);
    expect(await exportOf(other)).toEqual(otherOriginal);

    await server.gql('{ viewer { keyId } }'); // the key's lookup is fresh in the cache
    const sent: string[] = [];
    server.graph.onStatement = (q) => sent.push(statementName(q.cypher));
    const retriesBefore = server.graph.retryCount;
    const res = await importInto(server, original).finally(() => {
      server.graph.onStatement = undefined;
    });
    expect(res.errors).toBeUndefined();
    // Its own signed export: every id is kept.
    expect(res.data!.importOrganisation).toEqual({
      nodesCreated: original.nodes.length,
      nodesUpdated: 0,
      relationshipsCreated: original.relationships.length,
      nodeIds: original.nodes.map((n) => n.id),
    });
    // Batched: one lookup, one UNWIND per label and per (type, from label, to label), and
    // the mutation's audit event.
    const labelOf = new Map(original.nodes.map((n) => [n.id, n.label]));
    const groups = new Set(
      original.relationships.map((r) => `${r.type} ${labelOf.get(r.from)} ${labelOf.get(r.to)}`),
    );
    const expected = 1 + new Set(labelOf.values()).size + groups.size + 1;
    // A key lookup is not the import's (on a loaded machine the cache entry may lapse first),
    // and a transaction retried after a deadlock sends its statements again (round 3).
    const imported = sent.filter((name) => !name.startsWith('auth.repository.'));
    if (server.graph.retryCount === retriesBefore) expect(imported.length).toBe(expected);
    else expect(imported.length).toBeGreaterThan(expected);

    expect(await exportOf(server)).toEqual(original);
    expect(await exportOf(other)).toEqual(otherOriginal);
  });

  it('refuses to import ids that exist, naming how many and the first, and writes nothing', async () => {
    const res = await importInto(server, original);
    expect(codeOf(res)).toBe('CONFLICT');
    expect(messageOf(res)).toContain(
      `${original.nodes.length} node id(s) of the document are already nodes of this organisation, the first being "${original.nodes[0]!.id}"`,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ count: original.nodes.length });

    // A document that mixes a new node with an existing one writes neither.
    const fresh = { label: 'Entity', id: randomUUID(), properties: { name: 'new', createdAt } };
    const mixed = { ...original, nodes: [fresh, original.nodes[0]!], relationships: [] };
    expect(codeOf(await importInto(server, mixed))).toBe('CONFLICT');
    expect(await exportOf(server)).toEqual(original);
  });

  it('merges an identical document without changing anything', async () => {
    const res = await importInto(server, original, true);
    expect(res.errors).toBeUndefined();
    expect(res.data!.importOrganisation).toEqual({
      nodesCreated: 0,
      nodesUpdated: original.nodes.length,
      relationshipsCreated: 0,
      nodeIds: original.nodes.map((n) => n.id),
    });
    expect(await exportOf(server)).toEqual(original);
  });

  it('never lowers a task’s event number when it merges (subscribers leave out lower ones)', async () => {
    const task = original.nodes.find((n) => n.label === 'Task')!;
    const seqOf = async () => {
      const [row] = await server.graph.read((tx) =>
        tx.run<{ seq: number | null }>({
          cypher: 'MATCH (t:Task {id: $id}) RETURN t.eventSeq AS seq',
          params: { id: task.id },
        }),
      );
      return row!.seq;
    };
    const setSeq = (seq: number) =>
      server.graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (t:Task {id: $id}) SET t.eventSeq = $seq',
          params: { id: task.id, seq: neo4j.int(seq) },
        }),
      );
    const before = await seqOf();
    expect(before).toBeGreaterThanOrEqual(1);
    try {
      await setSeq(before! + 5); // events published since the document was exported
      expect((await importInto(server, original, true)).errors).toBeUndefined();
      expect(await seqOf()).toBe(before! + 5);
    } finally {
      await setSeq(before!);
    }
    expect(await exportOf(server)).toEqual(original);
  });

  it.each([
    ['a wrong format string', (d: Doc) => ({ ...d, format: 'neo4j-dump' }), 'format must be'],
    ['no nodes', ({ nodes: _n, ...d }: Doc) => d, 'nodes is missing'],
    [
      'a label outside the allow-list',
      (d: Doc) => ({ ...d, nodes: [{ label: 'ApiKey', id: randomUUID(), properties: {} }] }),
      'nodes[0].label must be one of Agent, Capability',
    ],
    [
      'a relationship type that would inject Cypher',
      (d: Doc) => ({
        ...d,
        nodes: [{ label: 'Entity', id: 'e-new', properties: {} }],
        relationships: [
          { type: 'X]->() DETACH DELETE n//', from: 'e-new', to: 'e-new', properties: {} },
        ],
      }),
      'relationships[0].type must match',
    ],
    [
      'an integer encoded as a string',
      (d: Doc) => ({
        ...d,
        nodes: [{ label: 'Entity', id: randomUUID(), properties: { rank: { $int: '3' } } }],
        relationships: [],
      }),
      'nodes[0].properties.rank must be a string, a boolean, a finite number, {"$int"',
    ],
    [
      'a relationship to an id that is nowhere',
      (d: Doc) => {
        const id = randomUUID();
        return {
          ...d,
          nodes: [{ label: 'Entity', id, properties: { name: 'dangling', createdAt } }],
          relationships: [{ type: 'MENTIONS', from: id, to: randomUUID(), properties: {} }],
        };
      },
      'relationships[0].to',
    ],
    [
      "a relationship to another tenant's node",
      (d: Doc) => {
        const id = randomUUID();
        return {
          ...d,
          nodes: [{ label: 'Entity', id, properties: { createdAt } }],
          relationships: [
            { type: 'MENTIONS', from: id, to: otherOriginal.nodes[0]!.id, properties: {} },
          ],
        };
      },
      'is neither a node of the document nor a node of this organisation',
    ],
  ])('refuses a document with %s and writes nothing', async (_name, make, message) => {
    for (const merge of [false, true]) {
      const res = await importInto(server, make(original), merge);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(messageOf(res)).toContain(message);
    }
    expect(await exportOf(server)).toEqual(original);
    expect(await exportOf(other)).toEqual(otherOriginal);
  });

  it('refuses a document over the node limit', async () => {
    const nodes = Array.from({ length: 50_001 }, () => ({
      label: 'Entity',
      id: 'x',
      properties: {},
    }));
    const res = await importInto(server, { ...original, nodes, relationships: [] });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(messageOf(res)).toContain('nodes may hold at most 50000 items per document');
  });

  it('refuses a document that is not an object', async () => {
    const res = await server.gql(ImportOrganisation, { document: [1, 2] as never });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
  });
});

describe('organisation import with merge', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await buildOrganisation(server);
  });
  afterAll(() => server?.stop());

  it('replaces properties, adds new nodes and relationships, and links to existing nodes', async () => {
    const before = await exportOf(server);
    const agent = before.nodes.find((n) => n.label === 'Agent')!;
    const knowledge = before.nodes.find((n) => n.label === 'Knowledge')!;
    const entity = {
      label: 'Entity' as const,
      id: randomUUID() as string,
      properties: { name: 'merged', createdAt },
    };
    const doc = {
      ...before,
      // The agent's properties are replaced as a whole: description disappears if absent.
      nodes: [
        { ...agent, properties: { ...agent.properties, name: 'Renamed', rank: { $int: 7 } } },
        entity,
      ],
      relationships: [
        // From a node that is only in the database, to a node that is only in the document.
        { type: 'MENTIONS', from: knowledge.id, to: entity.id, properties: { weight: 0.25 } },
      ],
    };
    const res = await importInto(server, doc, true);
    expect(res.errors).toBeUndefined();
    // The entity's id is not this organisation's: it is stored under a new one.
    const [agentId, entityId] = res.data!.importOrganisation.nodeIds;
    expect(res.data!.importOrganisation).toEqual({
      nodesCreated: 1,
      nodesUpdated: 1,
      relationshipsCreated: 1,
      nodeIds: [agent.id, expect.any(String)],
    });
    expect(entityId).not.toBe(entity.id);
    expect(agentId).toBe(agent.id);
    entity.id = entityId!;
    doc.relationships[0]!.to = entityId!;

    const after = await exportOf(server);
    expect(after.nodes).toHaveLength(before.nodes.length + 1);
    expect(after.nodes.find((n) => n.id === agent.id)!.properties).toEqual({
      ...agent.properties,
      name: 'Renamed',
      rank: { $int: 7 },
    });
    expect(after.relationships).toContainEqual({
      type: 'MENTIONS',
      from: knowledge.id,
      to: entity.id,
      properties: { weight: 0.25 },
    });

    // MERGE again with new properties: the relationship is updated, not duplicated.
    doc.relationships[0]!.properties = { weight: 0.5 };
    const again = await importInto(server, doc, true);
    expect(again.data!.importOrganisation.relationshipsCreated).toBe(0);
    const mentions = (await exportOf(server)).relationships.filter(
      (r) => r.from === knowledge.id && r.to === entity.id,
    );
    expect(mentions).toEqual([
      { type: 'MENTIONS', from: knowledge.id, to: entity.id, properties: { weight: 0.5 } },
    ]);
  });

  it('imports a document over 1 MB in a few batched statements', async () => {
    const content = 'x'.repeat(1_000);
    const nodes = Array.from({ length: 2_000 }, (_, i) => ({
      label: 'Entity' as const,
      id: randomUUID(),
      properties: { name: `bulk-${i}`, content, rank: { $int: i }, createdAt },
    }));
    const relationships = nodes.slice(1).map((n, i) => ({
      type: 'RELATED_TO',
      from: nodes[i]!.id,
      to: n.id,
      properties: {},
    }));
    const document = { format: 'agent-platform/organisation', version: 1, nodes, relationships };
    expect(JSON.stringify(document).length).toBeGreaterThan(2_000_000);

    // A key's lookup stays cached 5 s from when it was made, not from its last use, so the
    // admin key's entry may expire between two requests (CI saw 5 statements). A new key is
    // looked up (and its use recorded) by an empty import, which also reads the signing secret.
    const key = { authorization: `Bearer ${await server.keyFor(Role.ADMIN)}` };
    const empty = { ...document, nodes: [], relationships: [] };
    expect((await server.gql(ImportOrganisation, { document: empty }, key)).errors).toBeUndefined();
    const before = server.graph.statementCount;
    const retriesBefore = server.graph.retryCount;
    const res = await server.gql(ImportOrganisation, { document, merge: false }, key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.importOrganisation).toMatchObject({
      nodesCreated: 2_000,
      nodesUpdated: 0,
      relationshipsCreated: 1_999,
    });
    const stored = res.data!.importOrganisation.nodeIds;
    expect(new Set(stored).size).toBe(2_000);
    expect(stored.filter((id, i) => id === nodes[i]!.id)).toEqual([]);
    // Per attempt (a deadlock with another suite's writes retries the transaction): the id
    // lookup, the nodes, the relationships and the audit event.
    const attempts = 1 + server.graph.retryCount - retriesBefore;
    expect(server.graph.statementCount - before).toBeLessThanOrEqual(4 * attempts);
  });
});
