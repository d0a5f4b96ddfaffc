import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, CHAT_WINDOW } from '../src/agents/chat.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config.js';
import { graphql } from './generated/index.js';
import { startScriptedOpenAI, type ChatMessage } from './utils/openai-server.js';
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
      let answered = false;
      const pending = server
        .gql(Chat, { agentId, message: 'Hello Helper, what can you do for me?' })
        .finally(() => (answered = true));
      // Streamed while the model works: the tokens, to the last, arrive before the mutation's
      // answer (the reply is stored only after the last token, then answered).
      const pieces: string[] = [];
      const beforeAnswer: boolean[] = [];
      for (;;) {
        const e = (await tokens.waitForNext()).data!.chatTokens;
        beforeAnswer.push(!answered);
        if (e.done) break;
        expect(e.index).toBe(pieces.length);
        pieces.push(e.token);
      }
      expect(beforeAnswer.every(Boolean)).toBe(true);
      expect(pieces.length).toBeGreaterThan(1); // token by token, not one piece
      const res = await pending;
      expect(res.errors).toBeUndefined();
      const { reply, conversationId } = res.data!.chat;
      expect(reply).toMatchObject({ kind: 'CHAT', seq: 2, from: { name: 'Helper' } });
      expect(reply.content.length).toBeGreaterThan(0);
      expect(pieces.join('')).toBe(reply.content);

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
    // A scripted model, so the test reads exactly what the model was sent.
    const text = (m: ChatMessage) =>
      typeof m.content === 'string'
        ? m.content
        : (m.content ?? []).map((p) => p.text ?? '').join('');
    const isSummary = (messages: ChatMessage[]) => text(messages[0]!).includes('Summarise');
    const scripted = await startScriptedOpenAI((req, n) =>
      isSummary(req.messages)
        ? { content: `Summary ${n}` }
        : { content: `Noted: ${text(req.messages.at(-1)!)}` },
    );
    try {
      const runtime = createAgentRuntime({
        uow: server.services.uow,
        llm: loadConfig({
          LLM_PROVIDER: 'compatible',
          LLM_BASE_URL: scripted.baseURL,
          LLM_MODEL: 'gpt-4o-mini',
        }).llm,
        logger: server.logger,
        pubsub: server.pubsub,
      });
      const say = (message: string, conversationId?: string) =>
        chat(runtime, server.pubsub, {
          tenantId: server.tenantId,
          actor: 'test admin',
          agentId,
          message,
          conversationId,
        });
      const last = CHAT_WINDOW / 2 + 1; // the turn whose prompt no longer holds the first 3 messages
      const { conversationId } = await say('Message number 0');
      for (let i = 1; i <= last; i++) await say(`Message number ${i}`, conversationId);

      const [c] = await server.graph.read((tx) =>
        tx.run<{ count: number; summary: string | null; upTo: number | null }>({
          cypher:
            'MATCH (c:Conversation {id: $id}) RETURN c.messageCount AS count, c.summary AS summary, c.summaryUpTo AS upTo',
          params: { id: conversationId },
        }),
      );
      expect(c!.count).toBe((last + 1) * 2);

      // The last turn: 15 messages so far, so the 3 oldest were summarised, on top of the summary
      // made at the turn before (which covered the oldest one)...
      const [summarising, replying] = scripted.requests.slice(-2);
      expect(isSummary(summarising!.messages)).toBe(true);
      const previousSummary = `Summary ${scripted.requests.length - 4}`;
      expect(text(summarising!.messages.at(-1)!).split('\n')).toEqual([
        previousSummary,
        'test admin: Message number 0',
        'Helper: Noted: Message number 0',
        'test admin: Message number 1',
      ]);
      const summary = `Summary ${scripted.requests.length - 2}`;
      expect(c).toMatchObject({ summary, upTo: 3 });
      // ...and the reply's prompt holds that summary and the CHAT_WINDOW recent messages verbatim.
      expect(isSummary(replying!.messages)).toBe(false);
      expect(text(replying!.messages[0]!)).toContain(`Earlier in this conversation: ${summary}`);
      const recent = replying!.messages.slice(1).map((m) => [m.role, text(m)]);
      expect(recent).toHaveLength(CHAT_WINDOW);
      expect(recent).toEqual(
        Array.from({ length: CHAT_WINDOW / 2 }, (_, j) => [
          ['assistant', `Noted: Message number ${j + 1}`],
          ['user', `Message number ${j + 2}`],
        ]).flat(),
      );
    } finally {
      await scripted.close();
    }
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
