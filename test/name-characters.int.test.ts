import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import { at, documentOf, importInto, int, task } from './utils/import-documents.js';
import { writeKnowledge } from '../graph/agent-work.repository.js';

/**
 * README walk: names people read in lists (agents, capabilities, tenants, keys, titles, tags)
 * took NUL, other control characters and bidi overrides, so "Alice\u202Eecila" could pass for
 * another agent in Apollo Sandbox, the console or Neo4j Browser. Names now refuse them,
 * naming the field and the code point; free text (descriptions, content) keeps them.
 */

interface Case {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  /** The refusal's message. */
  message: string;
  field: string;
}

const RLO = 'Ali\u202Ecila';
/** createTenant's name under test: were it taken, afterAll removes that tenant. */
const TENANT = 'acme\u2067x';

const CASES: Case[] = [
  {
    name: 'createAgent name with U+202E',
    query: `mutation($v: String!) { createAgent(input: { name: $v, role: MASTER_OPERATOR }) { id } }`,
    variables: { v: RLO },
    message: 'name must not contain control or text-direction characters, but has U+202E at 3',
    field: 'name',
  },
  {
    name: 'createAgent name with NUL',
    query: `mutation($v: String!) { createAgent(input: { name: $v, role: MASTER_OPERATOR }) { id } }`,
    variables: { v: 'nul\u0000name' },
    message: 'name must not contain control or text-direction characters, but has U+0000 at 3',
    field: 'name',
  },
  {
    name: 'createAgent capability with a C1 control',
    query: `mutation($v: String!) { createAgent(input: { name: "Cap", role: MASTER_OPERATOR, capabilities: [{ name: $v }] }) { id } }`,
    variables: { v: 'res\u009Bearch' },
    message:
      'capabilities.name must not contain control or text-direction characters, but has U+009B at 3',
    field: 'capabilities.name',
  },
  {
    name: 'createTenant name with U+2067',
    query: `mutation($v: String!) { createTenant(name: $v) { tenant { id } } }`,
    variables: { v: TENANT },
    message: 'name must not contain control or text-direction characters, but has U+2067 at 4',
    field: 'name',
  },
  {
    name: 'createApiKey name with a newline',
    query: `mutation($v: String!) { createApiKey(role: VIEWER, name: $v) { secret } }`,
    variables: { v: 'ci\nkey' },
    message: 'name must not contain control or text-direction characters, but has U+000A at 2',
    field: 'name',
  },
  {
    name: 'createTask title with U+202A',
    query: `mutation($v: String!) { createTask(input: { title: $v }) { id } }`,
    variables: { v: 'a\u202Ab' },
    message: 'title must not contain control or text-direction characters, but has U+202A at 1',
    field: 'title',
  },
  {
    name: 'createConversation title with ESC',
    query: `mutation($v: String) { createConversation(title: $v) { id } }`,
    variables: { v: 'red\u001b[31m' },
    message: 'title must not contain control or text-direction characters, but has U+001B at 3',
    field: 'title',
  },
  {
    name: 'recordKnowledge tag with DEL',
    query: `mutation($v: String!) { recordKnowledge(input: { content: "fact", tags: [$v] }) { id } }`,
    variables: { v: 'ta\u007Fg' },
    message: 'tags must not contain control or text-direction characters, but has U+007F at 2',
    field: 'tags',
  },
  {
    name: 'ingestDocument title with U+2066',
    query: `mutation($v: String!) { ingestDocument(title: $v, text: "body") { id } }`,
    variables: { v: 'doc\u2066' + 'x' },
    message: 'title must not contain control or text-direction characters, but has U+2066 at 3',
    field: 'title',
  },
];

describe('names refuse control and text-direction characters', () => {
  let server: TestServer;
  let agentId = '';
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(
      `mutation { createAgent(input: { name: "Plain", role: MASTER_OPERATOR }) { id } }`,
    );
    expect(res.errors).toBeUndefined();
    agentId = (res.data as { createAgent: { id: string } }).createAgent.id;
  });
  afterAll(async () => {
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Tenant {name: $name}) OPTIONAL MATCH (n {tenantId: t.id})
                 DETACH DELETE t, n`,
        params: { name: TENANT },
      }),
    );
    await server?.stop();
  });

  it.each(CASES)('refuses $name with BAD_USER_INPUT naming the code point', async (c) => {
    const res = await server.gql(c.query, c.variables as never);
    expect(res.errors?.[0]?.message).toBe(c.message);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: c.field });
  });

  it('refuses renaming an agent to a spoofing name', async () => {
    const res = await server.gql(
      `mutation($id: ID!, $v: String!) { updateAgent(id: $id, input: { name: $v }) { name } }`,
      { id: agentId, v: RLO },
    );
    expect(res.errors?.[0]?.message).toBe(
      'name must not contain control or text-direction characters, but has U+202E at 3',
    );
  });

  // A review: a model's tags (record_knowledge, extraction after a step) went in as sent.
  it('turns them into spaces in the tags of knowledge a model records', async () => {
    const task = await server.gql(`mutation { createTask(input: { title: "Tagged" }) { id } }`);
    const taskId = (task.data as { createTask: { id: string } }).createTask.id;
    await server.graph.write((tx) =>
      writeKnowledge(tx, {
        tenantId: server.tenantId,
        kind: 'FACT',
        content: `tagged ${randomUUID()}`,
        confidence: 0.5,
        tags: ['market\u202Esize', '\t', 'plain'],
        runId: randomUUID(),
        taskId,
        agentId,
      }),
    );
    const rows = await server.graph.read((tx) =>
      tx.run<{ tags: string[] }>({
        cypher: `MATCH (k:Knowledge)-[:LEARNED_FROM]->(:Task {id: $taskId}) RETURN k.tags AS tags`,
        params: { taskId },
      }),
    );
    expect(rows).toEqual([{ tags: ['market size', 'plain'] }]);
  });

  it('keeps them in free text: descriptions and content are stored as sent', async () => {
    const text = 'line one\nline two \u202Eright-to-left\u0000';
    const res = await server.gql(
      `mutation($d: String) { createAgent(input: { name: "Free text", role: MASTER_OPERATOR, description: $d }) { description } }`,
      { d: text },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ createAgent: { description: text } });
  });

  // Every name the API holds to the rule, as an import brings it: the agent's name and tools,
  // a task's title, a capability's name, a conversation's title, a knowledge item's tags.
  const imported: [string, string, Record<string, unknown>][] = [
    ['an agent', 'name', agentNode({ name: RLO })],
    ['an agent', 'tools[1]', agentNode({ tools: ['search', RLO] })],
    ['a task', 'title', task(randomUUID(), { title: RLO })],
    ['a capability', 'name', node('Capability', { name: RLO })],
    ['a conversation', 'title', conversation({ title: RLO })],
    ['a knowledge item', 'tags[1]', knowledge({ tags: ['plain', RLO] })],
  ];
  it.each(imported)('refuses %s whose %s has one on import', async (_what, key, n) => {
    const res = await importInto(server, documentOf([n]), true);
    const field = `nodes[0].properties.${key}`;
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.errors?.[0]?.message).toContain(
      `${field} must not contain control or text-direction characters, but has U+202E at 3`,
    );
  });
});

const node = (label: string, props: Record<string, unknown>) => ({
  label,
  id: randomUUID(),
  properties: { createdAt: at, updatedAt: at, ...props },
});
const agentNode = (props: Record<string, unknown>) =>
  node('Agent', {
    name: 'Imported',
    role: 'MASTER_OPERATOR',
    status: 'IDLE',
    active: true,
    version: int(1),
    ...props,
  });
const conversation = (props: Record<string, unknown>) =>
  node('Conversation', { messageCount: int(0), ...props });
const knowledge = (props: Record<string, unknown>) =>
  node('Knowledge', { kind: 'FACT', content: 'A fact', ...props });
