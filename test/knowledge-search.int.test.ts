import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { RecordKnowledgeInput } from './generated/graphql.js';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  RecordKnowledge,
  RecordKnowledgeBatch,
  UpdateKnowledge,
  CreateAgent,
  recordKnowledge,
  errorOf,
} from './utils/knowledge-fixtures.js';

/*
 * Knowledge's full-text search, and the bad input it refuses with a code and the contract
 * (knowledge-records.int.test.ts: recording, reading and listing).
 */

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

describe('knowledge', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const record = (input: RecordKnowledgeInput) => recordKnowledge(server, input);

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
