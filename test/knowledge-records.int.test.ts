import { statementsFor } from './utils/statements.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { ExecutionResult } from 'graphql';
import type { ListKnowledgeQuery, RecordKnowledgeInput } from './generated/graphql.js';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  RecordKnowledgeBatch,
  UpdateKnowledge,
  CreateAgent,
  recordKnowledge,
  errorOf,
} from './utils/knowledge-fixtures.js';

/*
 * Knowledge recorded, read, updated and deleted, its provenance, batches, filters and paging
 * (knowledge-search.int.test.ts: full-text search and bad input).
 */

const GetKnowledge = graphql(`
  query GetKnowledge($id: ID!) {
    knowledge(id: $id) {
      ...KnowledgeFields
    }
  }
`);

const DeleteKnowledge = graphql(`
  mutation DeleteKnowledge($id: ID!) {
    deleteKnowledge(id: $id)
  }
`);

const ListKnowledge = graphql(`
  query ListKnowledge($filter: KnowledgeFilter, $first: Int, $after: String, $orderBy: ListOrder) {
    knowledgeItems(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        content
      }
    }
  }
`);

const ListKnowledgeProvenance = graphql(`
  query ListKnowledgeProvenance($filter: KnowledgeFilter) {
    knowledgeItems(filter: $filter, first: 100) {
      nodes {
        id
        contributedBy {
          name
        }
        source {
          title
        }
        supersedes {
          content
        }
      }
    }
  }
`);

describe('knowledge', () => {
  let server: TestServer;
  let agentId: string;
  let taskId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const agent = await server.gql(CreateAgent, {
      input: { name: 'Scholar', role: 'MASTER_OPERATOR' },
    });
    agentId = agent.data!.createAgent.id;
    taskId = await createTask('Study the docs');
  });
  afterAll(() => server.stop());

  /** Tasks come from the task slice; here a bare node in the test tenant is enough. */
  async function createTask(title: string): Promise<string> {
    const id = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (:Task {id: $id, tenantId: $tenantId, title: $title, priority: 'MEDIUM',
                         status: 'PENDING', attempts: 0, version: 1,
                         createdAt: datetime(), updatedAt: datetime()})`,
        params: { id, tenantId: server.tenantId, title },
      }),
    );
    return id;
  }

  const record = (input: RecordKnowledgeInput) => recordKnowledge(server, input);

  it('are recorded with defaults, read back, updated and deleted', async () => {
    const item = await record({
      content: '  Water boils at 100 C at sea level  ',
      tags: ['physics'],
    });
    expect(item).toMatchObject({
      kind: 'FACT',
      content: 'Water boils at 100 C at sea level',
      confidence: 1,
      tags: ['physics'],
      contributedBy: null,
      source: null,
      supersedes: null,
    });
    expect(new Date(String(item.createdAt)).toISOString()).toBe(item.createdAt);

    const read = await server.gql(GetKnowledge, { id: item.id });
    expect(read.data?.knowledge).toEqual(item);

    const updated = await server.gql(UpdateKnowledge, {
      id: item.id,
      input: { confidence: 0.8, tags: ['physics', 'cooking', 'physics'], kind: 'LESSON' },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data?.updateKnowledge).toMatchObject({
      content: 'Water boils at 100 C at sea level',
      kind: 'LESSON',
      confidence: 0.8,
      tags: ['physics', 'cooking'],
    });
    const [stored] = await server.graph.read((tx) =>
      tx.run<{ tagText: string }>({
        cypher: 'MATCH (k:Knowledge {tenantId: $tenantId, id: $id}) RETURN k.tagText AS tagText',
        params: { tenantId: server.tenantId, id: item.id },
      }),
    );
    expect(stored?.tagText).toBe('physics cooking');

    expect((await server.gql(DeleteKnowledge, { id: item.id })).data).toEqual({
      deleteKnowledge: item.id,
    });
    const gone = await server.gql(GetKnowledge, { id: item.id });
    expect(errorOf(gone)).toMatchObject({ code: 'NOT_FOUND', id: item.id });
    const again = await server.gql(DeleteKnowledge, { id: item.id });
    expect(errorOf(again).code).toBe('NOT_FOUND');
    const noUpdate = await server.gql(UpdateKnowledge, { id: item.id, input: { content: 'x' } });
    expect(errorOf(noUpdate).code).toBe('NOT_FOUND');
  });

  it('keep their provenance as CONTRIBUTED_BY, LEARNED_FROM and SUPERSEDES edges', async () => {
    const old = await record({ content: 'Deploys take ten minutes', kind: 'LESSON' });
    const item = await record({
      content: 'Deploys take five minutes since caching',
      kind: 'LESSON',
      confidence: 0.9,
      agentId,
      taskId,
      supersedesId: old.id,
    });
    expect(item).toMatchObject({
      contributedBy: { id: agentId, name: 'Scholar' },
      source: { id: taskId, title: 'Study the docs' },
      supersedes: { id: old.id },
    });
    const edges = await server.graph.read((tx) =>
      tx.run<{ type: string; target: string }>({
        cypher: `
          MATCH (:Knowledge {tenantId: $tenantId, id: $id})-[r]->(m)
          RETURN type(r) AS type, m.id AS target ORDER BY type`,
        params: { tenantId: server.tenantId, id: item.id },
      }),
    );
    expect(edges).toEqual([
      { type: 'CONTRIBUTED_BY', target: agentId },
      { type: 'LEARNED_FROM', target: taskId },
      { type: 'SUPERSEDES', target: old.id },
    ]);
  });

  it('load provenance with one query per field level, however many items', async () => {
    const tag = `batching-${randomUUID()}`;
    const inputs: RecordKnowledgeInput[] = [];
    let previous: string | undefined;
    for (let i = 0; i < 6; i++) {
      const agent = await server.gql(CreateAgent, {
        input: { name: `Batcher ${i}`, role: 'MASTER_OPERATOR' },
      });
      const task = await createTask(`Batch task ${i}`);
      const res = await server.gql(RecordKnowledgeBatch, {
        inputs: [
          {
            content: `batched ${i}`,
            tags: [tag],
            agentId: agent.data!.createAgent.id,
            taskId: task,
            supersedesId: previous,
          },
        ],
      });
      previous = res.data!.recordKnowledgeBatch[0]!.id;
      inputs.push({ content: `batched ${i}` });
    }
    const list = () => server.gql(ListKnowledgeProvenance, { filter: { tag } });
    const answers: Awaited<ReturnType<typeof list>>[] = [];
    const statements = await statementsFor(server, async () => answers.push(await list()));
    const res = answers.at(-1)!;
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.knowledgeItems.nodes;
    expect(nodes).toHaveLength(6);
    expect(nodes.map((n) => n.contributedBy?.name)).toEqual(inputs.map((_, i) => `Batcher ${i}`));
    expect(nodes.map((n) => n.source?.title)).toEqual(inputs.map((_, i) => `Batch task ${i}`));
    expect(nodes.map((n) => n.supersedes?.content ?? null)).toEqual([
      null,
      ...inputs.slice(0, 5).map((i) => i.content),
    ]);
    // page (no totalCount asked, so no count), links, agents, tasks, superseded items.
    expect(statements).toBe(5);
  });

  it('are recorded in batches, all or nothing', async () => {
    const ok = await server.gql(RecordKnowledgeBatch, {
      inputs: [
        { content: 'batch one', tags: ['batch-ok'] },
        { content: 'batch two', tags: ['batch-ok'], kind: 'SKILL', agentId },
      ],
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.recordKnowledgeBatch.map((k) => k.content)).toEqual(['batch one', 'batch two']);

    const unknownTask = randomUUID();
    const bad = await server.gql(RecordKnowledgeBatch, {
      inputs: [
        { content: 'batch three', tags: ['batch-bad'] },
        { content: 'batch four', tags: ['batch-bad'], taskId: unknownTask },
      ],
    });
    expect(errorOf(bad)).toMatchObject({ code: 'NOT_FOUND', id: unknownTask });
    const invalid = await server.gql(RecordKnowledgeBatch, {
      inputs: [{ content: 'batch five', tags: ['batch-bad'] }, { content: ' ' }],
    });
    expect(errorOf(invalid)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'inputs[1].content must be 1 to 20000 characters, but got 0',
    });
    const list = await server.gql(ListKnowledge, { filter: { tag: 'batch-bad' } });
    expect(list.data?.knowledgeItems.totalCount).toBe(0);

    const tooMany = await server.gql(RecordKnowledgeBatch, {
      inputs: Array.from({ length: 101 }, (_, i) => ({ content: `item ${i}` })),
    });
    expect(errorOf(tooMany)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'inputs may hold at most 100 items, but got 101',
    });
  });

  it('filter by kind, tag, agent, task, confidence and text', async () => {
    const task = await createTask('Filter task');
    const t = `filter-${randomUUID().slice(0, 8)}`;
    const a = await record({ content: 'Alpha filter fact', tags: [t], confidence: 0.3, agentId });
    const b = await record({
      content: 'Beta filter lesson',
      tags: [t, 'x'],
      kind: 'LESSON',
      taskId: task,
    });
    const c = await record({
      content: 'Gamma FILTER summary',
      tags: [t],
      kind: 'SUMMARY',
      confidence: 0.95,
    });
    const ids = async (filter: Record<string, unknown>) => {
      const res = await server.gql(ListKnowledge, { filter: { tag: t, ...filter } });
      expect(res.errors).toBeUndefined();
      return res.data!.knowledgeItems.nodes.map((n) => n.id);
    };
    expect(await ids({})).toEqual([a.id, b.id, c.id]);
    expect(await ids({ kind: 'LESSON' })).toEqual([b.id]);
    expect(await ids({ agentId })).toEqual([a.id]);
    expect(await ids({ taskId: task })).toEqual([b.id]);
    expect(await ids({ minConfidence: 0.9 })).toEqual([b.id, c.id]);
    expect(await ids({ text: 'gamma filter' })).toEqual([c.id]);
    expect(await ids({ tag: 'x', text: 'beta' })).toEqual([b.id]);

    const bad = await server.gql(ListKnowledge, { filter: { minConfidence: 2 } });
    expect(errorOf(bad)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'minConfidence must be between 0 and 1, but got 2',
    });
  });

  it('page with no duplicates and no gaps, in either order', async () => {
    const tag = `page-${randomUUID().slice(0, 8)}`;
    const res = await server.gql(RecordKnowledgeBatch, {
      inputs: Array.from({ length: 7 }, (_, i) => ({ content: `page item ${i}`, tags: [tag] })),
    });
    const all = res.data!.recordKnowledgeBatch.map((k) => k.id);
    for (const orderBy of ['CREATED_ASC', 'CREATED_DESC'] as const) {
      const seen: string[] = [];
      let after: string | null | undefined = null;
      let pages = 0;
      for (;;) {
        const page: ExecutionResult<ListKnowledgeQuery> = await server.gql(ListKnowledge, {
          filter: { tag },
          first: 3,
          after,
          orderBy,
        });
        expect(page.errors).toBeUndefined();
        const conn: ListKnowledgeQuery['knowledgeItems'] = page.data!.knowledgeItems;
        expect(conn.totalCount).toBe(7);
        seen.push(...conn.nodes.map((n) => n.id));
        pages++;
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(pages).toBe(3);
      expect([...seen].sort()).toEqual([...all].sort());
      expect(new Set(seen).size).toBe(7);
    }
    const bad = await server.gql(ListKnowledge, { first: 0 });
    expect(errorOf(bad).message).toBe('first must be between 1 and 100, but got 0');
  });
});
