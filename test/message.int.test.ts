import { statementsFor } from './utils/statements.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type {
  MessageFilter,
  MsgConversationQuery,
  MsgListQuery,
  SendMessageInput,
} from './generated/graphql.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const MsgFields = graphql(`
  fragment MsgFields on Message {
    id
    kind
    content
    senderUser
    broadcast
    seq
    createdAt
    from {
      id
    }
    to {
      id
    }
    about {
      id
    }
    conversation {
      id
      title
      messageCount
    }
  }
`);

const MsgSeedAgents = graphql(`
  mutation MsgSeedAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

const MsgSeedTask = graphql(`
  mutation MsgSeedTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
    }
  }
`);

const MsgSend = graphql(`
  mutation MsgSend($input: SendMessageInput!) {
    sendMessage(input: $input) {
      ...MsgFields
    }
  }
`);

const MsgSendMany = graphql(`
  mutation MsgSendMany($inputs: [SendMessageInput!]!) {
    sendMessages(inputs: $inputs) {
      id
      content
      seq
      conversation {
        id
      }
    }
  }
`);

const MsgCreateConversation = graphql(`
  mutation MsgCreateConversation($title: String) {
    createConversation(title: $title) {
      id
      title
      messageCount
    }
  }
`);

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

const MsgConversations = graphql(`
  query MsgConversations($first: Int, $after: String) {
    conversations(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        title
      }
    }
  }
`);

const MsgList = graphql(`
  query MsgList($filter: MessageFilter, $first: Int, $after: String, $orderBy: ListOrder) {
    messages(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
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

const MsgAgentInbox = graphql(`
  query MsgAgentInbox($first: Int, $kind: MessageKind) {
    agents(filter: { text: "Inbox" }, orderBy: NAME_ASC) {
      nodes {
        name
        messages(first: $first, kind: $kind) {
          content
          from {
            name
          }
        }
      }
    }
  }
`);

const MsgSent = graphql(`
  subscription MsgSent($agentId: ID, $conversationId: ID) {
    messageSent(agentId: $agentId, conversationId: $conversationId) {
      content
      seq
      broadcast
      from {
        id
      }
      conversation {
        id
        messageCount
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
    server = await startTestServer();
    const agents = await server.gql(MsgSeedAgents, {
      inputs: ['Ada', 'Bob', 'Cy'].map((name) => ({ name, role: 'MASTER_OPERATOR' as const })),
    });
    expect(agents.errors).toBeUndefined();
    [ada, bob, cy] = agents.data!.createAgents.map((a) => a.id) as [string, string, string];
    const created = await server.gql(MsgSeedTask, { input: { title: 'Write the report' } });
    expect(created.errors).toBeUndefined();
    task = created.data!.createTask.id;
  });
  afterAll(() => server.stop());

  const send = async (input: SendMessageInput) => {
    const res = await server.gql(MsgSend, { input });
    expect(res.errors).toBeUndefined();
    return res.data!.sendMessage;
  };
  const newConversation = async (title: string) =>
    (await server.gql(MsgCreateConversation, { title })).data!.createConversation.id;
  const totalMessages = async () =>
    (await server.gql(MsgList, { first: 1 })).data!.messages.totalCount;
  const totalConversations = async () =>
    (await server.gql(MsgConversations, { first: 1 })).data!.conversations.totalCount;

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

  it('pages the message list with no duplicates and no gaps', async () => {
    const conversationId = await newConversation('Paging');
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) {
      sent.push((await send({ content: `page ${i}`, toAgentIds: [cy], conversationId })).id);
    }
    const seen: string[] = [];
    let after: string | null | undefined = null;
    for (;;) {
      const res = await server.gql(MsgList, {
        filter: { conversationId },
        first: 3,
        after,
        orderBy: 'CREATED_ASC',
      });
      const page: MsgListQuery['messages'] = res.data!.messages;
      expect(page.totalCount).toBe(7);
      seen.push(...page.nodes.map((m) => m.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(sent);
    const newest = await server.gql(MsgList, {
      filter: { conversationId },
      first: 2,
      orderBy: 'CREATED_DESC',
    });
    expect(newest.data?.messages.nodes.map((m) => m.id)).toEqual([sent[6], sent[5]]);
  });

  it('filters by kind, agent, conversation, task and text', async () => {
    const conversationId = await newConversation('Filters');
    const question = await send({
      content: 'Where is the zebra quartz?',
      kind: 'QUESTION',
      fromAgentId: cy,
      toAgentIds: [bob],
      conversationId,
    });
    const answer = await send({
      content: 'The zebra is in the barn',
      kind: 'ANSWER',
      fromAgentId: bob,
      toAgentIds: [cy],
      aboutTaskId: task,
      conversationId,
    });
    const ids = async (filter: MessageFilter) =>
      (await server.gql(MsgList, { filter, first: 100 })).data!.messages.nodes.map((m) => m.id);

    expect(await ids({ kind: 'QUESTION', conversationId })).toEqual([question.id]);
    expect(await ids({ conversationId })).toEqual([question.id, answer.id]);
    expect(await ids({ agentId: cy, conversationId })).toEqual([question.id, answer.id]);
    expect(await ids({ agentId: ada, conversationId })).toEqual([]);
    expect(await ids({ aboutTaskId: task, conversationId })).toEqual([answer.id]);
    expect(await ids({ text: 'zebra' })).toEqual([question.id, answer.id]);
    expect(await ids({ text: 'ZEBRA quartz' })).toEqual([question.id]);
    expect(await ids({ text: 'zebra', kind: 'ANSWER', agentId: bob })).toEqual([answer.id]);
    // An agent of the tenant sees broadcasts; an unknown id sees nothing.
    expect(await ids({ agentId: randomUUID() })).toEqual([]);

    const hostile = ['AND', 'NOT', 'zebra OR', '"unclosed', 'a:b', '(((', '***', '\\', '/re/', '~'];
    for (const text of hostile) {
      const res = await server.gql(MsgList, { filter: { text } });
      expect(res.errors, `text ${JSON.stringify(text)}`).toBeUndefined();
    }
    // Syntax characters are plain text; every word must occur, so "and" must too.
    expect(await ids({ text: '(zebra) "quartz?' })).toEqual([question.id]);
    expect(await ids({ text: 'zebra AND quartz' })).toEqual([]);
    expect(await ids({ text: '***' })).toEqual([]);
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

  it('announces exactly the committed messages to an agent and to a conversation, in order', async () => {
    const conversationId = await newConversation('Live');
    const toCy = await subscribe(server, MsgSent, { agentId: cy });
    const inConversation = await subscribe(server, MsgSent, { conversationId });
    try {
      await send({ content: 'live 1', fromAgentId: ada, toAgentIds: [cy], conversationId });
      await send({ content: 'live 2', toAgentIds: [bob], conversationId });
      // Refused: rolled back, so nothing is announced.
      const refused = await server.gql(MsgSend, {
        input: {
          content: 'live refused',
          toAgentIds: [cy],
          conversationId,
          aboutTaskId: randomUUID(),
        },
      });
      expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      await send({ content: 'live 3', broadcast: true });
      const batch = await server.gql(MsgSendMany, {
        inputs: [
          { content: 'live 4', toAgentIds: [cy], conversationId },
          { content: 'live 5', toAgentIds: [cy, bob], conversationId },
        ],
      });
      expect(batch.errors).toBeUndefined();
      const refusedBatch = await server.gql(MsgSendMany, {
        inputs: [
          { content: 'live refused 2', toAgentIds: [cy], conversationId },
          { content: 'live refused 3', toAgentIds: [randomUUID()], conversationId },
        ],
      });
      expect(refusedBatch.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

      const next = async (sub: typeof toCy, n: number) => {
        const events = [];
        for (let i = 0; i < n; i++) events.push((await sub.waitForNext()).data?.messageSent);
        return events;
      };
      const cyEvents = await next(toCy, 4);
      expect(cyEvents.map((e) => e?.content)).toEqual(['live 1', 'live 3', 'live 4', 'live 5']);
      expect(cyEvents[0]).toMatchObject({ from: { id: ada }, broadcast: false, seq: 1 });
      expect(cyEvents[1]).toMatchObject({ from: null, broadcast: true });

      const conversationEvents = await next(inConversation, 4);
      expect(conversationEvents.map((e) => [e?.content, e?.seq])).toEqual([
        ['live 1', 1],
        ['live 2', 2],
        ['live 4', 3],
        ['live 5', 4],
      ]);
      expect(conversationEvents.every((e) => e?.conversation.id === conversationId)).toBe(true);
      // The subscription reads fresh data for each event, not what an earlier event cached.
      expect(conversationEvents[3]?.conversation.messageCount).toBe(4);

      // Nothing else, above all not the refused messages: the next event on each subscription is
      // a control message that both must hear.
      const isControl = (e: { data?: { messageSent: { content: string } } | null }) =>
        e.data?.messageSent.content === 'live control';
      const control = () => send({ content: 'live control', toAgentIds: [cy], conversationId });
      expect(await toCy.heardBefore(control, isControl)).toEqual([]);
      expect(await inConversation.heardBefore(async () => {}, isControl)).toEqual([]);
    } finally {
      await toCy.close();
      await inConversation.close();
    }
  });

  it('loads agent.messages for several agents with one statement per field level', async () => {
    const seeded = await server.gql(MsgSeedAgents, {
      inputs: ['Inbox A', 'Inbox B', 'Inbox C'].map((name) => ({
        name,
        role: 'MASTER_OPERATOR' as const,
      })),
    });
    const [a, b, c] = seeded.data!.createAgents.map((x) => x.id) as [string, string, string];
    await send({ content: 'inbox old', kind: 'DELEGATION', fromAgentId: a, toAgentIds: [b] });
    await send({ content: 'inbox broadcast', fromAgentId: c, broadcast: true });
    await send({
      content: 'inbox delegation',
      kind: 'DELEGATION',
      fromAgentId: a,
      toAgentIds: [c],
    });
    await send({ content: 'inbox newest', fromAgentId: c, toAgentIds: [b] });

    const inboxes = async (first: number, kind?: 'DELEGATION') => {
      const read = () => server.gql(MsgAgentInbox, { first, kind });
      const answers: Awaited<ReturnType<typeof read>>[] = [];
      const statements = await statementsFor(server, async () => answers.push(await read()));
      const res = answers.at(-1)!;
      expect(res.errors).toBeUndefined();
      const byName = Object.fromEntries(
        res.data!.agents.nodes.map((x) => [x.name, x.messages.map((m) => m.content)]),
      );
      const senders = res.data!.agents.nodes.map((x) => x.messages[0]?.from?.name);
      return { byName, senders, statements };
    };

    const newest = await inboxes(2);
    expect(newest.byName).toEqual({
      'Inbox A': ['inbox delegation', 'inbox broadcast'],
      'Inbox B': ['inbox newest', 'inbox broadcast'],
      'Inbox C': ['inbox newest', 'inbox delegation'],
    });
    expect(newest.senders).toEqual(['Inbox A', 'Inbox C', 'Inbox C']);
    // agents: the page (no totalCount asked, so no count); messages: 1; from: links 1 +
    // agents 1. Never one per agent.
    expect(newest.statements).toBe(4);

    const delegations = await inboxes(5, 'DELEGATION');
    expect(delegations.byName).toEqual({
      'Inbox A': ['inbox delegation', 'inbox old'],
      'Inbox B': ['inbox old'],
      'Inbox C': ['inbox delegation'],
    });

    const tooMany = await server.gql(MsgAgentInbox, { first: 500 });
    expect(tooMany.errors?.[0]?.message).toBe('first must be between 1 and 100, but got 500');
  });
});
