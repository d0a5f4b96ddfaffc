import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_REPLIES_PER_TENANT } from '../src/services/chat.service.js';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, CHAT_WINDOW } from '../src/agents/chat.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { graphql } from './generated/index.js';
import { startScriptedOpenAI } from './utils/openai-server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import {
  Chat,
  text,
  isSummary,
  scriptedLlm,
  countCalls,
  eventually,
  startChatServer,
} from './utils/chat-fixtures.js';

/*
 * Chat replies: the person's message at once, the reply streamed and stored, a slow model, the
 * replies one organisation has in the making, and a long conversation's summaries (which
 * counts on the LLMCall records of the replies before it) (chat-conversations.int.test.ts:
 * the bounded window of a long conversation, and refusals).
 */

const Tokens = graphql(`
  subscription ChatTokens($agentId: ID) {
    chatTokens(agentId: $agentId) {
      replyId
      token
      index
      done
      error
    }
  }
`);

type Row = { id: string; content: string; seq: number; sender: string | null };
const storedMessage = async (server: TestServer, id: string): Promise<Row | undefined> => {
  const [row] = await server.graph.read((tx) =>
    tx.run<Row>({
      cypher: `MATCH (m:Message {tenantId: $t, id: $id}) OPTIONAL MATCH (a:Agent)-[:SENT]->(m)
               RETURN m.id AS id, m.content AS content, m.seq AS seq, a.name AS sender`,
      params: { t: server.tenantId, id },
    }),
  );
  return row;
};

/**
 * A loopback proxy that holds every request until release() and then forwards it: a model that
 * is slow for exactly as long as the test says, with no timer.
 */
async function gate(
  target: string,
): Promise<{ baseURL: string; held(): number; release(): void; close(): Promise<void> }> {
  const waiting: (() => void)[] = [];
  let open = false;
  const server: Server = createServer((req, res) => {
    const forward = () => {
      const url = new URL(req.url!, target);
      const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    };
    if (open) forward();
    else waiting.push(forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    held: () => waiting.length,
    release: () => {
      open = true;
      waiting.splice(0).forEach((f) => f());
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('chat with an agent', () => {
  let server: TestServer;
  let agentId: string;
  beforeAll(async () => {
    ({ server, agentId } = await startChatServer());
  });
  afterAll(() => server.stop());

  it('answers with the person’s message at once, then streams the reply token by token and stores it', async () => {
    const tokens = await subscribe(server, Tokens, { agentId });
    try {
      const res = await server.gql(Chat, {
        agentId,
        message: 'Hello Helper, what can you do for me?',
      });
      expect(res.errors).toBeUndefined();
      const { message, replyId, conversationId } = res.data!.chat;
      expect(message).toEqual({
        kind: 'CHAT',
        content: 'Hello Helper, what can you do for me?',
        seq: 1,
      });
      const pieces: string[] = [];
      for (;;) {
        const e = (await tokens.waitForNext()).data!.chatTokens;
        expect(e.replyId).toBe(replyId);
        expect(e.error).toBeNull();
        if (e.done) break;
        expect(e.index).toBe(pieces.length);
        pieces.push(e.token);
      }
      expect(pieces.length).toBeGreaterThan(1); // token by token, not one piece
      await server.services.chat.idle();
      const reply = await storedMessage(server, replyId);
      expect(reply).toMatchObject({ seq: 2, sender: 'Helper', content: pieces.join('') });

      const [row] = await server.graph.read((tx) =>
        tx.run<{ kinds: string[]; senders: string[] }>({
          cypher: `MATCH (m:Message {conversationId: $id}) OPTIONAL MATCH (a:Agent)-[:SENT]->(m)
                   WITH m, a ORDER BY m.seq
                   RETURN collect(m.kind) AS kinds, collect(coalesce(a.name, m.senderUser)) AS senders`,
          params: { id: conversationId },
        }),
      );
      expect(row).toEqual({ kinds: ['CHAT', 'CHAT'], senders: ['test admin', 'Helper'] });
      await eventually(async () => (await countCalls(server, 'chat')) >= 1);
    } finally {
      await tokens.close();
    }
  });

  it('answers the HTTP request before a slow model finishes; the reply, later than the request’s time limit, arrives on chatTokens and in the graph', async () => {
    const scripted = await startScriptedOpenAI(() => ({ content: 'Slow but sure.' }));
    const slow = await gate(scripted.baseURL.replace(/\/v1$/, ''));
    // The reply outlives the request: the request's time limit is not the reply's.
    const limitMs = 2_000;
    const other = await startTestServer(
      undefined,
      { requestTimeoutMs: limitMs },
      scriptedLlm(slow),
    );
    try {
      const created = await other.gql(
        `mutation { createAgent(input: { name: "Slowpoke", role: MASTER_OPERATOR }) { id } }`,
      );
      const slowId = (created.data as { createAgent: { id: string } }).createAgent.id;
      const tokens = await subscribe(other, Tokens, { agentId: slowId });
      try {
        const res = await other.gql(Chat, { agentId: slowId, message: 'Take your time.' });
        // Answered while the model has not answered at all: the model's request is still held.
        expect(res.errors).toBeUndefined();
        const { replyId } = res.data!.chat;
        expect(res.data!.chat.message.content).toBe('Take your time.');
        expect(scripted.requests).toHaveLength(0);
        expect(await storedMessage(other, replyId)).toBeUndefined();

        await eventually(async () => slow.held() === 1);
        await sleep(limitMs + 500);
        slow.release();
        const pieces: string[] = [];
        for (;;) {
          const e = (await tokens.waitForNext(30_000)).data!.chatTokens;
          if (e.done) {
            expect(e.error).toBeNull();
            break;
          }
          pieces.push(e.token);
        }
        expect(pieces.join('')).toBe('Slow but sure.');
        // The closing token says the reply is stored: it comes after the reply's commit.
        expect(await storedMessage(other, replyId)).toMatchObject({
          content: 'Slow but sure.',
          seq: 2,
          sender: 'Slowpoke',
        });
      } finally {
        await tokens.close();
      }
    } finally {
      await other.stop();
      await slow.close();
      await scripted.close();
    }
  });

  it('bounds the replies one organisation has in the making: one more is LIMIT_EXCEEDED until one ends', async () => {
    const scripted = await startScriptedOpenAI(() => ({ content: 'Done.' }));
    const slow = await gate(scripted.baseURL.replace(/\/v1$/, ''));
    const other = await startTestServer(undefined, {}, scriptedLlm(slow));
    try {
      const created = await other.gql(
        `mutation { createAgent(input: { name: "Busy", role: MASTER_OPERATOR }) { id } }`,
      );
      const agentId = (created.data as { createAgent: { id: string } }).createAgent.id;
      const sends = await Promise.all(
        Array.from({ length: MAX_REPLIES_PER_TENANT }, (_, i) =>
          other.gql(Chat, { agentId, message: `Question ${i}` }),
        ),
      );
      for (const s of sends) expect(s.errors).toBeUndefined();
      const refused = await other.gql(Chat, { agentId, message: 'One more' });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'chatRepliesPerTenant',
      });
      slow.release();
      await other.services.chat.idle();
      const again = await other.gql(Chat, { agentId, message: 'Now?' });
      expect(again.errors).toBeUndefined();
      await other.services.chat.idle();
    } finally {
      await other.stop();
      await slow.close();
      await scripted.close();
    }
  });

  it('keeps a long conversation: the summariser gets the previous summary and only the messages since', async () => {
    // A scripted model, so the test reads exactly what the model was sent.
    const scripted = await startScriptedOpenAI((req, n) =>
      isSummary(req.messages)
        ? { content: `Summary ${n}` }
        : { content: `Noted: ${text(req.messages.at(-1)!)}` },
    );
    try {
      const runtime = createAgentRuntime({
        uow: server.services.uow,
        llm: scriptedLlm(scripted),
        logger: server.logger,
        pubsub: server.pubsub,
      });
      const say = async (message: string, conversationId?: string) => {
        const turn = await chat(runtime, server.pubsub, {
          tenantId: server.tenantId,
          actor: 'test admin',
          agentId,
          message,
          conversationId,
        });
        await turn.reply;
        return turn;
      };
      const last = CHAT_WINDOW / 2 + 1; // the turn whose prompt no longer holds the first 3 messages
      // The tenant's chat calls so far (the tests before this one chat too).
      const callsBefore = await countCalls(server, 'chat');
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

      // The turn before the last summarised the oldest message alone...
      const summaries = scripted.requests.filter((r) => isSummary(r.messages));
      expect(summaries).toHaveLength(2);
      expect(text(summaries[0]!.messages.at(-1)!).split('\n')).toEqual([
        'test admin: Message number 0',
      ]);
      // ...and the last turn (15 messages) gets that summary and the two messages since, only.
      const [summarising, replying] = scripted.requests.slice(-2);
      expect(isSummary(summarising!.messages)).toBe(true);
      const previousSummary = `Summary ${scripted.requests.length - 4}`;
      expect(text(summarising!.messages.at(-1)!).split('\n')).toEqual([
        previousSummary,
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
      // As a real provider takes them: the chat's token limit on both, the streamed reply
      // asking for its usage (the summary is not streamed: its usage comes with the answer).
      expect(replying!.stream).toBe(true);
      for (const req of [summarising!, replying!]) {
        expect(assertProviderRequest(req, DEFAULT_MAX_TOKENS.chat)).toBe(0);
      }
      // Every call of the chat, summaries included, is booked under purpose chat.
      await eventually(
        async () => (await countCalls(server, 'chat')) >= callsBefore + scripted.requests.length,
      );
      expect(await countCalls(server, 'synthesis')).toBe(0);
    } finally {
      await scripted.close();
    }
  });
});
