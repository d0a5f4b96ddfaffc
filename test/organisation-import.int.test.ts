import { Role } from '../src/domain/auth.js';
import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import { untilBlocked } from './utils/blocked.js';
import { taskEvents } from '../graph/task-event.repository.js';
import {
  ImportOrganisation,
  buildOrganisation,
  codeOf,
  createdAt,
  exportOf,
  importInto,
  messageOf,
  startOrganisationPair,
  type Doc,
} from './utils/organisation-fixtures.js';

/*
 * Organisation import: documents refused (ids that exist, bad shapes, links to other tenants),
 * merges, and a large batched import (organisation-export.int.test.ts: export and round trip).
 */

describe('organisation export and import', () => {
  let server: TestServer;
  let other: TestServer;
  let original: Doc;
  let otherOriginal: Doc;

  beforeAll(async () => {
    ({ server, other, original, otherOriginal } = await startOrganisationPair());
  });
  afterAll(async () => {
    await server?.stop();
    await other?.stop();
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

  it('keeps the number of an event announced while the merge waited for the task', async () => {
    const task = original.nodes.find((n) => n.label === 'Task')!;
    const seqOf = async () => {
      const [row] = await server.graph.read((tx) =>
        tx.run<{ seq: number }>({
          cypher: 'MATCH (t:Task {id: $id}) RETURN t.eventSeq AS seq',
          params: { id: task.id },
        }),
      );
      return row!.seq;
    };
    const before = await seqOf();
    let merged: Promise<unknown> | undefined;
    // An event of the task, numbered under its lock (as a run's end numbers it), commits after
    // the merge started.
    await server.graph.write(async (tx) => {
      await taskEvents(tx, server.tenantId, [task.id], Date.now());
      merged = importInto(server, original, true);
      await untilBlocked(server.graph, 'the merge to wait for the task', {
        query: 'n.eventSeq AS eventSeq',
      });
    });
    try {
      expect(((await merged) as { errors?: unknown }).errors).toBeUndefined();
      expect(await seqOf()).toBe(before + 1);
    } finally {
      await server.graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (t:Task {id: $id}) SET t.eventSeq = $seq',
          params: { id: task.id, seq: neo4j.int(before) },
        }),
      );
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
