import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';

const Seed = graphql(`
  mutation SearchSeed($agent: CreateAgentInput!, $task: CreateTaskInput!) {
    createAgent(input: $agent) {
      id
    }
    createTask(input: $task) {
      id
    }
  }
`);

const SeedMessage = graphql(`
  mutation SearchSeedMessage($message: SendMessageInput!, $knowledge: RecordKnowledgeInput!) {
    sendMessage(input: $message) {
      id
      conversation {
        id
      }
    }
    recordKnowledge(input: $knowledge) {
      id
    }
  }
`);

const NodeById = graphql(`
  query NodeById($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Agent {
        name
      }
      ... on Task {
        title
      }
      ... on Message {
        content
      }
      ... on Knowledge {
        kind
      }
      ... on Conversation {
        messageCount
      }
    }
  }
`);

const Search = graphql(`
  query SearchAll($query: String!, $first: Int) {
    search(query: $query, first: $first) {
      score
      node {
        __typename
        id
      }
    }
  }
`);

describe('node(id) and search', () => {
  let server: TestServer;
  let other: TestServer;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    [server, other] = await Promise.all([startTestServer(), startTestServer()]);
    const seeded = await server.gql(Seed, {
      agent: { name: 'Searcher', role: 'MASTER_OPERATOR' },
      task: { title: 'Measure the quasar brightness' },
    });
    ids.Agent = seeded.data!.createAgent.id;
    ids.Task = seeded.data!.createTask.id;
    const more = await server.gql(SeedMessage, {
      message: { content: 'The quasar data is in', toAgentIds: [ids.Agent] },
      knowledge: { content: 'A quasar outshines its galaxy', kind: 'FACT', taskId: ids.Task },
    });
    ids.Message = more.data!.sendMessage.id;
    ids.Conversation = more.data!.sendMessage.conversation.id;
    ids.Knowledge = more.data!.recordKnowledge.id;
    await other.gql(Seed, {
      agent: { name: 'Elsewhere', role: 'MASTER_OPERATOR' },
      task: { title: 'Another quasar, another tenant' },
    });
  });
  afterAll(async () => {
    await Promise.all([server.stop(), other.stop()]);
  });

  it('node(id) finds every kind of node by id, with its type', async () => {
    for (const [type, id] of Object.entries(ids)) {
      const res = await server.gql(NodeById, { id });
      expect(res.errors).toBeUndefined();
      expect(res.data?.node).toMatchObject({ __typename: type, id });
    }
  });

  it('node(id) answers NOT_FOUND for unknown ids and for ids of another tenant', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id', ids.Agent!]) {
      const res = await (id === ids.Agent ? other : server).gql(NodeById, { id });
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('search finds tasks, messages and knowledge of this tenant only, best first', async () => {
    const res = await server.gql(Search, { query: 'quasar' });
    const hits = res.data!.search;
    expect(hits.map((h) => h.node.__typename).sort()).toEqual(['Knowledge', 'Message', 'Task']);
    expect(hits.map((h) => h.node.id).sort()).toEqual(
      [ids.Task, ids.Message, ids.Knowledge].sort(),
    );
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('search stays in the tenant when another tenant id holds its id, and never matches the tenant id', async () => {
    // The tenant is a phrase of tokens in the Lucene query: "x-<u>" holds the phrase of "<u>".
    const u = randomUUID();
    const [inner, outer] = await Promise.all([
      startTestServer(`${u}`),
      startTestServer(`zebra-${u}`),
    ]);
    try {
      for (const s of [inner, outer]) {
        const res = await s.gql(Seed, {
          agent: { name: 'Nebula watcher', role: 'MASTER_OPERATOR' },
          task: { title: 'Map the nebula' },
        });
        expect(res.errors).toBeUndefined();
      }
      const hits = await inner.gql(Search, { query: 'nebula' });
      expect(hits.data!.search).toHaveLength(1);
      const own = await inner.gql(NodeById, { id: hits.data!.search[0]!.node.id });
      expect(own.errors).toBeUndefined();
      // Words are looked for in the text fields only, not in tenantId's tokens.
      const byTenant = await outer.gql(Search, { query: 'zebra' });
      expect(byTenant.data!.search).toEqual([]);
    } finally {
      await Promise.all([inner.stop(), outer.stop()]);
    }
  });

  it('search takes hostile text literally and refuses empty text', async () => {
    for (const query of ['quasar"', 'a AND OR (', '"); MATCH (n) DETACH DELETE n //', '*', '\\']) {
      const res = await server.gql(Search, { query });
      expect(res.errors).toBeUndefined();
    }
    const empty = await server.gql(Search, { query: '   ' });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await server.gql(Search, { query: 'quasar', first: 1000 });
    expect(tooMany.errors?.[0]?.message).toBe('first must be between 1 and 100, but got 1000');
  });
});
