import { statementsFor } from './utils/statements.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import type { MessageFilter, MsgListQuery, SendMessageInput } from './generated/graphql.js';
import { type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import {
  MsgSeedAgents,
  MsgSend,
  MsgSendMany,
  MsgList,
  startMessageServer,
  sendMessage,
  createConversationTitled,
} from './utils/message-fixtures.js';

/*
 * Messages read back: paging, filters, what subscriptions announce, and agent.messages loaded
 * in batches (message-send.int.test.ts: sending them).
 */

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
    ({ server, ada, bob, cy, task } = await startMessageServer());
  });
  afterAll(() => server.stop());

  const send = (input: SendMessageInput) => sendMessage(server, input);
  const newConversation = (title: string) => createConversationTitled(server, title);

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

  it('refuses a cursor of one conversation’s messages on another’s', async () => {
    // Both lists order by seq: a cursor taken across would quietly skip the other's first ones.
    const [one, two] = [await newConversation('Cursor one'), await newConversation('Cursor two')];
    for (const conversationId of [one, two, two, two])
      await send({ content: 'hello', toAgentIds: [cy], conversationId });
    const Page = graphql(`
      query MsgConversationPage($id: ID!, $after: String) {
        conversation(id: $id) {
          messages(first: 1, after: $after) {
            nodes {
              id
            }
            pageInfo {
              endCursor
            }
          }
        }
      }
    `);
    const first = await server.gql(Page, { id: one });
    const cursor = first.data!.conversation.messages.pageInfo.endCursor!;
    const own = await server.gql(Page, { id: two });
    const next = await server.gql(Page, {
      id: two,
      after: own.data!.conversation.messages.pageInfo.endCursor,
    });
    expect(next.errors).toBeUndefined();
    const across = await server.gql(Page, { id: two, after: cursor });
    expect(across.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(across.errors?.[0]?.message).toMatch(/^after is not a cursor of this list/);
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
