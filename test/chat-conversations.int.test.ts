import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, CHAT_SUMMARY_BATCH, CHAT_WINDOW } from '../src/agents/chat.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import * as work from '../graph/agent-work.repository.js';
import { chatContext, saveChatSummary } from '../graph/chat.repository.js';
import { untilBlocked } from './utils/blocked.js';
import { startScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { profiler } from './utils/profile.js';
import { Chat, text, isSummary, scriptedLlm, startChatServer } from './utils/chat-fixtures.js';

/*
 * Chat conversations: a bounded window of a long one read whatever its length, and refusals
 * (chat-replies.int.test.ts: replies streamed and bounded, and summaries).
 */

describe('chat with an agent', () => {
  let server: TestServer;
  let agentId: string;
  beforeAll(async () => {
    ({ server, agentId } = await startChatServer());
  });
  afterAll(() => server.stop());

  it('reads a bounded window of a long conversation, whatever its length', async () => {
    // Messages written directly; the turn's read and the summariser see a bounded slice.
    const writeLines = (conversationId: string, count: number) =>
      server.graph.write(async (tx) => {
        for (let i = 1; i <= count; i++) {
          await work.writeMessage(tx, {
            id: `${conversationId}-${i}`,
            tenantId: server.tenantId,
            conversationId,
            conversationTitle: 'Long chat',
            kind: 'CHAT',
            content: `Line ${i}`,
            fromAgentId: null,
            senderUser: 'test admin',
            toAgentIds: [agentId],
            broadcast: false,
            aboutTaskId: null,
          });
        }
      });
    const conversationId = `bounded-${server.tenantId}`;
    const longer = `bounded-4x-${server.tenantId}`;
    await writeLines(conversationId, 100);
    await writeLines(longer, 400);
    const bounds = { window: CHAT_WINDOW, catchUp: CHAT_SUMMARY_BATCH };
    const read = await server.graph.read((tx) =>
      chatContext(tx, server.tenantId, conversationId, bounds),
    );
    const expected = [
      ...Array.from({ length: CHAT_SUMMARY_BATCH }, (_, i) => i + 1),
      ...Array.from({ length: CHAT_WINDOW }, (_, i) => 100 - CHAT_WINDOW + 1 + i),
    ];
    expect(read!.lines.map((l) => l.seq)).toEqual(expected);
    // The work, not only the rows: four times the messages cost the same db hits.
    const prof = profiler();
    try {
      const short = await prof.measure((tx) =>
        chatContext(tx, server.tenantId, conversationId, bounds),
      );
      const long = await prof.measure((tx) => chatContext(tx, server.tenantId, longer, bounds));
      expect(long.result!.lines).toHaveLength(CHAT_SUMMARY_BATCH + CHAT_WINDOW);
      expect(long.dbHits).toBeLessThanOrEqual(short.dbHits + 10);
    } finally {
      await prof.close();
    }

    const scripted = await startScriptedOpenAI((req, n) =>
      isSummary(req.messages) ? { content: `Summary ${n}` } : { content: 'Fine.' },
    );
    try {
      const runtime = createAgentRuntime({
        uow: server.services.uow,
        llm: scriptedLlm(scripted),
        logger: server.logger,
      });
      const turn = (message: string) =>
        chat(runtime, server.pubsub, {
          tenantId: server.tenantId,
          actor: 'test admin',
          agentId,
          message,
          conversationId,
        }).then((t) => t.reply);
      await turn('Line 101');
      // The summariser got the oldest batch only; the summary now covers it.
      expect(text(scripted.requests[0]!.messages.at(-1)!).split('\n')).toEqual(
        Array.from({ length: CHAT_SUMMARY_BATCH }, (_, i) => `test admin: Line ${i + 1}`),
      );
      const after = await server.graph.read((tx) =>
        chatContext(tx, server.tenantId, conversationId, bounds),
      );
      expect(after!.summaryUpTo).toBe(CHAT_SUMMARY_BATCH);
      expect(after!.lines.length).toBeLessThanOrEqual(CHAT_WINDOW + CHAT_SUMMARY_BATCH);
      // The next turn catches up by the next batch, on top of the summary so far.
      await turn('Line 103');
      expect(text(scripted.requests[2]!.messages.at(-1)!).split('\n')).toEqual([
        'Summary 0',
        ...Array.from(
          { length: CHAT_SUMMARY_BATCH },
          (_, i) => `test admin: Line ${CHAT_SUMMARY_BATCH + i + 1}`,
        ),
      ]);
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
  it('keeps the newer summary when a turn that summarised less commits after it', async () => {
    const conversationId = `summaries-${server.tenantId}`;
    await server.graph.write((tx) =>
      work.writeMessage(tx, {
        id: `${conversationId}-1`,
        tenantId: server.tenantId,
        conversationId,
        conversationTitle: 'Two turns',
        kind: 'CHAT',
        content: 'Line 1',
        fromAgentId: null,
        senderUser: 'test admin',
        toAgentIds: [agentId],
        broadcast: false,
        aboutTaskId: null,
      }),
    );
    let older: Promise<unknown> | undefined;
    // The faster turn's summary holds the conversation's lock until it commits; the slower
    // turn, which summarised less, saves meanwhile.
    await server.graph.write(async (tx) => {
      await saveChatSummary(tx, server.tenantId, conversationId, { text: 'newer', upTo: 20 });
      older = server.graph.write((t) =>
        saveChatSummary(t, server.tenantId, conversationId, { text: 'older', upTo: 10 }),
      );
      await untilBlocked(server.graph, 'the slower turn to wait', { name: 'text', value: 'older' });
    });
    await older;
    const read = await server.graph.read((tx) =>
      chatContext(tx, server.tenantId, conversationId, { window: 1, catchUp: 1 }),
    );
    expect({ summary: read!.summary, upTo: read!.summaryUpTo }).toEqual({
      summary: 'newer',
      upTo: 20,
    });
  });
});
