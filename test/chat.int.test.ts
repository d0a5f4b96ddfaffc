import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_WINDOW } from '../src/agents/chat.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const Chat = graphql(`
  mutation ChatWith($agentId: ID!, $message: String!, $conversationId: ID) {
    chat(agentId: $agentId, message: $message, conversationId: $conversationId) {
      conversationId
      reply {
        kind
        content
        seq
        from {
          name
        }
      }
    }
  }
`);

const Tokens = graphql(`
  subscription ChatTokens($agentId: ID) {
    chatTokens(agentId: $agentId) {
      token
      index
      done
    }
  }
`);

describe('chat with an agent', () => {
  let server: TestServer;
  let agentId: string;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(
      `mutation { createAgent(input: { name: "Helper", role: MASTER_OPERATOR }) { id } }`,
    );
    agentId = (res.data as { createAgent: { id: string } }).createAgent.id;
  });
  afterAll(() => server.stop());

  it('streams the reply token by token, then keeps both messages in a conversation', async () => {
    const tokens = await subscribe(server, Tokens, { agentId });
    try {
      const res = await server.gql(Chat, {
        agentId,
        message: 'Hello Helper, what can you do for me?',
      });
      expect(res.errors).toBeUndefined();
      const { reply, conversationId } = res.data!.chat;
      expect(reply).toMatchObject({ kind: 'CHAT', seq: 2, from: { name: 'Helper' } });
      expect(reply.content.length).toBeGreaterThan(0);
      let streamed = '';
      for (;;) {
        const e = (await tokens.waitForNext()).data!.chatTokens;
        if (e.done) break;
        streamed += e.token;
      }
      expect(streamed).toBe(reply.content);

      const [row] = await server.graph.read((tx) =>
        tx.run<{ kinds: string[]; senders: string[] }>({
          cypher: `MATCH (m:Message {conversationId: $id}) OPTIONAL MATCH (a:Agent)-[:SENT]->(m)
                   WITH m, a ORDER BY m.seq
                   RETURN collect(m.kind) AS kinds, collect(coalesce(a.name, m.senderUser)) AS senders`,
          params: { id: conversationId },
        }),
      );
      expect(row).toEqual({ kinds: ['CHAT', 'CHAT'], senders: ['test admin', 'Helper'] });
      const [calls] = await server.graph.read((tx) =>
        tx.run<{ n: number }>({
          cypher: "MATCH (c:LLMCall {tenantId: $t, purpose: 'chat'}) RETURN count(c) AS n",
          params: { t: server.tenantId },
        }),
      );
      expect(calls!.n).toBeGreaterThanOrEqual(1);
    } finally {
      await tokens.close();
    }
  });

  it('keeps a long conversation: recent messages verbatim, older ones summarised', async () => {
    const first = await server.gql(Chat, { agentId, message: 'Message number 0' });
    const conversationId = first.data!.chat.conversationId;
    for (let i = 1; i <= CHAT_WINDOW / 2 + 1; i++) {
      const res = await server.gql(Chat, {
        agentId,
        message: `Message number ${i}`,
        conversationId,
      });
      expect(res.errors).toBeUndefined();
    }
    const [c] = await server.graph.read((tx) =>
      tx.run<{ count: number; summary: string | null; upTo: number | null }>({
        cypher:
          'MATCH (c:Conversation {id: $id}) RETURN c.messageCount AS count, c.summary AS summary, c.summaryUpTo AS upTo',
        params: { id: conversationId },
      }),
    );
    expect(c!.count).toBe((CHAT_WINDOW / 2 + 2) * 2);
    expect(c!.summary).toBeTruthy();
    expect(c!.upTo).toBeGreaterThan(0);
  });

  it('refuses an unknown agent, a conversation of another tenant and an empty message', async () => {
    const unknown = await server.gql(Chat, {
      agentId: '00000000-0000-4000-8000-000000000000',
      message: 'hi',
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const other = await startTestServer();
    try {
      const mine = await server.gql(Chat, { agentId, message: 'private' });
      const theirs = await other.gql(
        `mutation { createAgent(input: { name: "Other", role: MASTER_OPERATOR }) { id } }`,
      );
      const otherAgent = (theirs.data as { createAgent: { id: string } }).createAgent.id;
      const res = await other.gql(Chat, {
        agentId: otherAgent,
        message: 'let me in',
        conversationId: mine.data!.chat.conversationId,
      });
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    } finally {
      await other.stop();
    }
    const empty = await server.gql(Chat, { agentId, message: '   ' });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
