import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { MsgConversationQuery, SendMessageInput } from './generated/graphql.js';
import { type TestServer } from './utils/server.js';
import {
  MsgSend,
  MsgSendMany,
  MsgList,
  startMessageServer,
  sendMessage,
  createConversationTitled,
  countMessages,
  countConversations,
} from './utils/message-fixtures.js';

/*
 * Messages sent: to one agent, to several, broadcast, in order under concurrent senders, in
 * batches (all or nothing), and refused (message-lists.int.test.ts: reading them back).
 */

const MsgGet = graphql(`
  query MsgGet($id: ID!) {
    message(id: $id) {
      ...MsgFields
    }
  }
`);

const MsgConversation = graphql(`
  query MsgConversation($id: ID!, $first: Int, $after: String) {
    conversation(id: $id) {
      id
      title
      messageCount
      messages(first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          id
          seq
          content
        }
      }
    }
  }
`);

describe('messages', () => {
  let server: TestServer;
  let ada: string;
  let bob: string;
  let cy: string;
  let task: string;

  beforeAll(async () => {
    ({ server, ada, bob, cy, task } = await startMessageServer());
  });
  afterAll(() => server.stop());

  const send = (input: SendMessageInput) => sendMessage(server, input);
  const newConversation = (title: string) => createConversationTitled(server, title);
  const totalMessages = () => countMessages(server);
  const totalConversations = () => countConversations(server);

  it('is sent by a user to one agent, in a new conversation, and read back', async () => {
    const message = await send({
      content: '  hello Bob  ',
      toAgentIds: [bob],
      conversationTitle: 'Greeting',
    });
    expect(message).toMatchObject({
      kind: 'CHAT',
      content: 'hello Bob',
      senderUser: 'test admin',
      broadcast: false,
      seq: 1,
      from: null,
      to: [{ id: bob }],
      about: null,
      conversation: { title: 'Greeting', messageCount: 1 },
    });
    expect(new Date(String(message.createdAt)).toISOString()).toBe(message.createdAt);
    expect((await server.gql(MsgGet, { id: message.id })).data?.message).toEqual(message);
  });

  it('is sent by an agent to several agents, about a task', async () => {
    const message = await send({
      content: 'Please draft section 2',
      kind: 'DELEGATION',
      fromAgentId: ada,
      toAgentIds: [cy, bob, cy],
      aboutTaskId: task,
    });
    expect(message).toMatchObject({
      kind: 'DELEGATION',
      senderUser: null,
      from: { id: ada },
      to: [{ id: bob }, { id: cy }],
      about: { id: task },
      seq: 1,
    });
  });

  it('is broadcast to every agent of the organisation', async () => {
    const message = await send({ content: 'all hands klaxon', fromAgentId: bob, broadcast: true });
    expect(message).toMatchObject({ broadcast: true, to: [], from: { id: bob } });
    for (const agentId of [ada, cy]) {
      const inbox = await server.gql(MsgList, {
        filter: { agentId, text: 'klaxon' },
      });
      expect(inbox.data?.messages.nodes.map((m) => m.id)).toEqual([message.id]);
    }
  });

  it('keeps a total, stable order in a conversation, also under concurrent senders', async () => {
    const conversationId = await newConversation('Order');
    for (let i = 1; i <= 5; i++) {
      expect((await send({ content: `step ${i}`, toAgentIds: [ada], conversationId })).seq).toBe(i);
    }
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        server.gql(MsgSend, {
          input: { content: `race ${i}`, fromAgentId: bob, toAgentIds: [ada], conversationId },
        }),
      ),
    );
    const seqs = racing.map((r) => r.data!.sendMessage.seq).sort((a, b) => a - b);
    expect(seqs).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

    const whole = (await server.gql(MsgConversation, { id: conversationId, first: 100 })).data!
      .conversation;
    expect(whole.messageCount).toBe(15);
    expect(whole.messages.totalCount).toBe(15);
    expect(whole.messages.nodes.map((m) => m.seq)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    expect(whole.messages.nodes.slice(0, 5).map((m) => m.content)).toEqual([
      'step 1',
      'step 2',
      'step 3',
      'step 4',
      'step 5',
    ]);

    // Paging by seq gives the same order, with no duplicates and no gaps.
    const paged: number[] = [];
    let after: string | null | undefined = null;
    for (;;) {
      const res = await server.gql(MsgConversation, { id: conversationId, first: 4, after });
      const page: MsgConversationQuery['conversation']['messages'] =
        res.data!.conversation.messages;
      paged.push(...page.nodes.map((m) => m.seq));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(paged).toEqual(whole.messages.nodes.map((m) => m.seq));
  });

  it('sends a batch in one transaction, in order, all or nothing', async () => {
    const conversationId = await newConversation('Batch');
    const ok = await server.gql(MsgSendMany, {
      inputs: [
        { content: 'batch one', toAgentIds: [ada], conversationId },
        { content: 'batch two', toAgentIds: [bob], conversationId },
        { content: 'batch elsewhere', broadcast: true },
      ],
    });
    expect(ok.errors).toBeUndefined();
    const [one, two, elsewhere] = ok.data!.sendMessages;
    expect([one?.seq, two?.seq, elsewhere?.seq]).toEqual([1, 2, 1]);
    expect(elsewhere?.conversation.id).not.toBe(conversationId);

    const messagesBefore = await totalMessages();
    const conversationsBefore = await totalConversations();
    const unknown = randomUUID();
    const bad = await server.gql(MsgSendMany, {
      inputs: [
        { content: 'batch three', toAgentIds: [ada], conversationId },
        { content: 'batch new conversation', toAgentIds: [ada] },
        { content: 'batch four', toAgentIds: [bob, unknown], conversationId },
      ],
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', id: unknown });
    expect(bad.errors?.[0]?.message).toBe(
      `inputs[2].toAgentIds: Agent "${unknown}" does not exist`,
    );
    expect(await totalMessages()).toBe(messagesBefore);
    expect(await totalConversations()).toBe(conversationsBefore);
    const conversation = await server.gql(MsgConversation, { id: conversationId });
    expect(conversation.data?.conversation.messageCount).toBe(2);

    const invalid = await server.gql(MsgSendMany, {
      inputs: [
        { content: 'fine', toAgentIds: [ada] },
        { content: ' ', toAgentIds: [ada] },
      ],
    });
    expect(invalid.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(invalid.errors?.[0]?.message).toBe(
      'inputs[1].content must be 1 to 20000 characters, but got 0',
    );
    // Regression (the fuzz): a sentence got the position glued to its first word,
    // "inputs[1].A message needs recipients".
    const noRecipients = await server.gql(MsgSendMany, {
      inputs: [{ content: 'fine', toAgentIds: [ada] }, { content: 'to nobody' }],
    });
    expect(noRecipients.errors?.[0]?.message).toBe(
      'inputs[1]: A message needs recipients: give toAgentIds (1 to 100 agents) or broadcast: true',
    );
    const tooMany = await server.gql(MsgSendMany, {
      inputs: Array.from({ length: 101 }, () => ({ content: 'x', toAgentIds: [ada] })),
    });
    expect(tooMany.errors?.[0]?.message).toBe('inputs may hold at most 100 items, but got 101');
    expect(await totalMessages()).toBe(messagesBefore);
  });

  it('refuses invalid messages with a code and a message that says what to fix', async () => {
    const before = await totalMessages();
    const unknown = randomUUID();
    const conversationId = await newConversation('Refusals');
    const cases: [SendMessageInput, string, string][] = [
      [{ content: '   ', toAgentIds: [ada] }, 'BAD_USER_INPUT', 'content must be 1 to 20000'],
      [{ content: 'x'.repeat(20_001), toAgentIds: [ada] }, 'BAD_USER_INPUT', 'but got 20001'],
      [{ content: 'to nobody' }, 'BAD_USER_INPUT', 'A message needs recipients'],
      [
        { content: 'both', toAgentIds: [ada], broadcast: true },
        'BAD_USER_INPUT',
        'either toAgentIds or broadcast: true, not both',
      ],
      [
        { content: 'crowd', toAgentIds: Array.from({ length: 101 }, () => randomUUID()) },
        'BAD_USER_INPUT',
        'toAgentIds may hold at most 100 agents, but got 101',
      ],
      [
        { content: 'titled', toAgentIds: [ada], conversationId, conversationTitle: 'New' },
        'BAD_USER_INPUT',
        'leave it out when giving conversationId',
      ],
      [
        { content: 'ghost', toAgentIds: [ada, unknown] },
        'NOT_FOUND',
        `toAgentIds: Agent "${unknown}" does not exist`,
      ],
      [
        { content: 'ghost', fromAgentId: unknown, toAgentIds: [ada] },
        'NOT_FOUND',
        `fromAgentId: Agent "${unknown}" does not exist`,
      ],
      [
        { content: 'ghost', toAgentIds: [ada], aboutTaskId: unknown },
        'NOT_FOUND',
        `aboutTaskId: Task "${unknown}" does not exist`,
      ],
      [
        { content: 'ghost', toAgentIds: [ada], conversationId: unknown },
        'NOT_FOUND',
        `conversationId: Conversation "${unknown}" does not exist`,
      ],
    ];
    for (const [input, code, message] of cases) {
      const res = await server.gql(MsgSend, { input });
      expect(res.errors?.[0]?.extensions?.code, message).toBe(code);
      expect(res.errors?.[0]?.message).toContain(message);
      if (code === 'NOT_FOUND') expect(res.errors?.[0]?.extensions?.id).toBe(unknown);
    }
    expect(await totalMessages()).toBe(before);

    const missing = await server.gql(MsgGet, { id: unknown });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const noConversation = await server.gql(MsgConversation, { id: unknown });
    expect(noConversation.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const listCursor = (await server.gql(MsgList, { first: 1 })).data!.messages.pageInfo.endCursor;
    const wrongCursor = await server.gql(MsgConversation, {
      id: conversationId,
      after: listCursor,
    });
    expect(wrongCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
