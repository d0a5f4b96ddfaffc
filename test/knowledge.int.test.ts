import { statementsFor } from './utils/statements.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { ExecutionResult } from 'graphql';
import type { ListKnowledgeQuery, RecordKnowledgeInput } from './generated/graphql.js';
import { startTestServer, type TestServer } from './utils/server.js';

const KnowledgeFields = graphql(`
  fragment KnowledgeFields on Knowledge {
    id
    kind
    content
    confidence
    tags
    createdAt
    updatedAt
    contributedBy {
      id
      name
    }
    source {
      id
      title
    }
    supersedes {
      id
    }
  }
`);

const RecordKnowledge = graphql(`
  mutation RecordKnowledge($input: RecordKnowledgeInput!) {
    recordKnowledge(input: $input) {
      ...KnowledgeFields
    }
  }
`);

const RecordKnowledgeBatch = graphql(`
  mutation RecordKnowledgeBatch($inputs: [RecordKnowledgeInput!]!) {
    recordKnowledgeBatch(inputs: $inputs) {
      id
      content
    }
  }
`);

const GetKnowledge = graphql(`
  query GetKnowledge($id: ID!) {
    knowledge(id: $id) {
      ...KnowledgeFields
    }
  }
`);

const UpdateKnowledge = graphql(`
  mutation UpdateKnowledge($id: ID!, $input: UpdateKnowledgeInput!) {
    updateKnowledge(id: $id, input: $input) {
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

const SearchKnowledge = graphql(`
  query SearchKnowledge($query: String!, $first: Int) {
    searchKnowledge(query: $query, first: $first) {
      score
      knowledge {
        id
        content
        tags
      }
    }
  }
`);

const CreateAgent = graphql(`
  mutation CreateKnowledgeAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      id
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

  const record = async (input: RecordKnowledgeInput) => {
    const res = await server.gql(RecordKnowledge, { input });
    expect(res.errors).toBeUndefined();
    return res.data!.recordKnowledge;
  };

  const errorOf = (res: {
    errors?: readonly { message: string; extensions?: unknown }[];
  }): Record<string, unknown> => ({
    message: res.errors?.[0]?.message,
    ...(res.errors?.[0]?.extensions as Record<string, unknown>),
  });

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

  describe('full-text search', () => {
    let other: TestServer;
    const word = `zyx${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      other = await startTestServer();
      await server.gql(RecordKnowledgeBatch, {
        inputs: [
          { content: `Rollbacks need the ${word} flag and the ${word} lock, ${word} always` },
          { content: `The ${word} flag is optional` },
          { content: 'Staging mirrors production', tags: [word] },
          { content: 'Nothing to see here' },
        ],
      });
      await other.gql(RecordKnowledge, { input: { content: `Other tenant knows ${word} too` } });
    });
    afterAll(() => other.stop());

    const search = async (query: string, first?: number) => {
      const res = await server.gql(SearchKnowledge, { query, first });
      expect(res.errors).toBeUndefined();
      return res.data!.searchKnowledge;
    };

    it('finds by content and by tag, best first, within the tenant', async () => {
      const hits = await search(word);
      expect(hits).toHaveLength(3);
      const contents = hits.map((h) => h.knowledge.content);
      // Three mentions rank above one.
      expect(contents.findIndex((c) => c.startsWith('Rollbacks'))).toBeLessThan(
        contents.findIndex((c) => c.startsWith('The ')),
      );
      expect(hits.map((h) => h.knowledge.content)).toContain('Staging mirrors production');
      expect(hits.map((h) => h.knowledge.content).join()).not.toContain('Other tenant');
      const scores = hits.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((x, y) => y - x));
      expect(scores.every((s) => s > 0)).toBe(true);

      const otherHits = await other.gql(SearchKnowledge, { query: word });
      expect(otherHits.data?.searchKnowledge.map((h) => h.knowledge.content)).toEqual([
        `Other tenant knows ${word} too`,
      ]);
    });

    it('honours first', async () => {
      expect(await search(word, 1)).toHaveLength(1);
      const bad = await server.gql(SearchKnowledge, { query: word, first: 101 });
      expect(errorOf(bad)).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: 'first must be between 1 and 100, but got 101',
      });
    });

    it('takes Lucene syntax literally', async () => {
      expect(await search(`${word} AND OR (`)).toHaveLength(3);
      expect((await search(`"${word}`)).length).toBe(3);
      expect(await search(`NOT ${word}*`)).toHaveLength(3);
    });

    it('answers hostile strings with hits or nothing, never an error', async () => {
      const hostile = [
        '"); MATCH (n) DETACH DELETE n //',
        "'}) MATCH (n) DETACH DELETE n RETURN 1 //",
        'a AND OR (',
        '\\',
        '\\\\',
        '*',
        '?',
        '"unbalanced',
        'unbalanced"',
        "it's",
        '((((',
        ']]]',
        '{!}',
        '&& || !',
        'title:secret',
        'a~2 b^10 [x TO y]',
        '/regex.*/',
        'OR',
        'NOT',
        '-',
        '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓',
      ];
      for (const query of hostile) {
        const res = await server.gql(SearchKnowledge, { query });
        expect(res.errors, query).toBeUndefined();
        expect(Array.isArray(res.data?.searchKnowledge), query).toBe(true);
      }
      // The graph is untouched.
      expect(await search(word)).toHaveLength(3);
    });

    it('refuses an empty or over-long query', async () => {
      for (const [query, got] of [
        ['', 0],
        ['   ', 0],
        ['x'.repeat(501), 501],
      ] as const) {
        const res = await server.gql(SearchKnowledge, { query });
        expect(errorOf(res)).toMatchObject({
          code: 'BAD_USER_INPUT',
          message: `query must be 1 to 500 characters, but got ${got}`,
        });
      }
    });
  });

  describe('refuse bad input with a code and the contract', () => {
    const cases: [string, RecordKnowledgeInput, Record<string, unknown>][] = [
      [
        'empty content',
        { content: '   ' },
        {
          code: 'BAD_USER_INPUT',
          field: 'content',
          message: 'content must be 1 to 20000 characters, but got 0',
        },
      ],
      [
        'too long content',
        { content: 'x'.repeat(20_001) },
        {
          code: 'BAD_USER_INPUT',
          field: 'content',
          message: 'content must be 1 to 20000 characters, but got 20001',
        },
      ],
      [
        'confidence 1.5',
        { content: 'c', confidence: 1.5 },
        {
          code: 'BAD_USER_INPUT',
          field: 'confidence',
          message: 'confidence must be between 0 and 1, but got 1.5',
        },
      ],
      [
        '21 tags',
        { content: 'c', tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) },
        {
          code: 'BAD_USER_INPUT',
          field: 'tags',
          message: 'tags may hold at most 20 items, but got 21',
        },
      ],
      [
        'a tag over 50 characters',
        { content: 'c', tags: ['t'.repeat(51)] },
        {
          code: 'BAD_USER_INPUT',
          field: 'tags',
          message: 'tags must be 1 to 50 characters, but got 51',
        },
      ],
    ];
    for (const [name, input, expected] of cases) {
      it(name, async () => {
        expect(errorOf(await server.gql(RecordKnowledge, { input }))).toMatchObject(expected);
      });
    }

    it('unknown agentId, taskId and supersedesId', async () => {
      for (const key of ['agentId', 'taskId', 'supersedesId'] as const) {
        const id = randomUUID();
        const res = await server.gql(RecordKnowledge, { input: { content: 'c', [key]: id } });
        const what = { agentId: 'Agent', taskId: 'Task', supersedesId: 'Knowledge' }[key];
        expect(errorOf(res)).toMatchObject({
          code: 'NOT_FOUND',
          id,
          message: `${what} "${id}" does not exist`,
        });
      }
      const notAnId = await server.gql(RecordKnowledge, {
        input: { content: 'c', agentId: 'nope' },
      });
      expect(errorOf(notAnId)).toMatchObject({ code: 'NOT_FOUND', id: 'nope' });
    });

    it('an agent of another tenant as unknown', async () => {
      const other = await startTestServer();
      try {
        const agent = await other.gql(CreateAgent, {
          input: { name: 'Foreign', role: 'MASTER_OPERATOR' },
        });
        const foreignId = agent.data!.createAgent.id;
        const res = await server.gql(RecordKnowledge, {
          input: { content: 'c', agentId: foreignId },
        });
        expect(errorOf(res)).toMatchObject({ code: 'NOT_FOUND', id: foreignId });
      } finally {
        await other.stop();
      }
    });

    it('a bad update', async () => {
      const item = await record({ content: 'to update' });
      const res = await server.gql(UpdateKnowledge, { id: item.id, input: { content: '' } });
      expect(errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content' });
      const conf = await server.gql(UpdateKnowledge, { id: item.id, input: { confidence: -0.1 } });
      expect(errorOf(conf)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'confidence' });
    });
  });
});
