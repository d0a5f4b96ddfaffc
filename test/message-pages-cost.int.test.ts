import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages, messagesOfAgents } from '../graph/message.repository.js';
import { MessageKind } from '../src/domain/message.js';
import { createOperators, createPlan } from './utils/engine-steps.js';
import { measureEach, profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Broadcasts the tenant gains between the two measures. */
const MORE = 300;
const PAGE = 5;

/**
 * An agent's messages (`Agent.messages(first)`, one statement for every agent of a page) read
 * its own sent and received messages and the tenant's broadcasts since it was created. The
 * broadcasts were read in full, then sorted: in a tenant whose agents broadcast, every agent of a
 * page paid for every broadcast made since its creation. They are now read newest first from an
 * index, as many as the page shows.
 */
describe("an agent's page of messages costs the page, not the tenant's broadcasts", () => {
  let server: TestServer;
  const prof = profiler();
  let agentId = '';
  let conversationId = '';

  const page = (tx: Parameters<typeof messagesOfAgents>[0]) =>
    messagesOfAgents(tx, server.tenantId, [agentId], PAGE, null).then((rows) =>
      rows.map((r) => r.message.content),
    );

  /** `n` broadcasts, `minutesAgo` old, named `<prefix> <i>` (a higher i is newer). */
  const broadcasts = (prefix: string, n: number, minutesAgo: number, kind = 'CHAT') =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, $n) AS i
          CREATE (:Message {id: randomUUID(), tenantId: $t, kind: $kind, broadcast: true,
                            content: $prefix + ' ' + i, conversationId: $c, seq: i,
                            createdAt: datetime() - duration({minutes: $ago})
                                       + duration({seconds: i})})`,
        params: {
          t: server.tenantId,
          c: conversationId,
          prefix,
          kind,
          n: neo4j.int(n),
          ago: neo4j.int(minutesAgo),
        },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    const created = await server.gql<{ createConversation: { id: string } }, never>(
      `mutation { createConversation(title: "news") { id } }`,
    );
    expect(created.errors).toBeUndefined();
    conversationId = created.data!.createConversation.id;
    // Broadcasts from before the agent existed are not its messages.
    await broadcasts('before', 50, 600);
    agentId = (await createOperators(server, { Ada: ['survey'] })).Ada!;
    const sent = await server.gql(
      `mutation($to: ID!) {
         sendMessage(input: { content: "to Ada", toAgentIds: [$to] }) { id }
       }`,
      { to: agentId },
    );
    expect(sent.errors).toBeUndefined();
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('reads as much with 300 more broadcasts, and the newest first', async () => {
    // A report broadcast older than every chat one: a page of reports must still find it.
    await broadcasts('report', 1, 0, 'REPORT');
    await broadcasts('early', 10, -1);
    const before = await measureEach(prof, { page });
    await broadcasts('late', MORE, -10);
    const after = await measureEach(prof, { page });

    expect(JSON.parse(before.page!.result)).toEqual([
      'early 10',
      'early 9',
      'early 8',
      'early 7',
      'early 6',
    ]);
    expect(JSON.parse(after.page!.result)).toEqual([
      'late 300',
      'late 299',
      'late 298',
      'late 297',
      'late 296',
    ]);
    expect(after.page!.hits - before.page!.hits, after.page!.plans).toBeLessThan(30);
    const reports = await server.graph.read((tx) =>
      messagesOfAgents(tx, server.tenantId, [agentId], PAGE, MessageKind.REPORT),
    );
    expect(reports.map((r) => r.message.content)).toEqual(['report 1']);
  });

  it('still finds a direct message among the newest', async () => {
    const rows = await server.graph.read((tx) =>
      messagesOfAgents(tx, server.tenantId, [agentId], 400, null),
    );
    const contents = rows.map((r) => r.message.content);
    expect(contents).toContain('to Ada');
    expect(contents.filter((c) => c.startsWith('before'))).toEqual([]);
    expect(contents).toHaveLength(1 + 1 + 10 + MORE);
  });

  it('of one kind reads as much with 300 more broadcasts of another kind', async () => {
    // The console's chat history is such a page (kind CHAT) where steps broadcast reports.
    const reports = {
      page: (tx: Parameters<typeof messagesOfAgents>[0]) =>
        messagesOfAgents(tx, server.tenantId, [agentId], PAGE, MessageKind.REPORT).then((rows) =>
          rows.map((r) => r.message.content),
        ),
      list: (tx: Parameters<typeof listMessages>[0]) =>
        listMessages(
          tx,
          server.tenantId,
          { agentId, kind: MessageKind.REPORT },
          { property: 'createdAt', descending: true },
          { first: PAGE, total: true },
        ).then((p) => [p.items.map((i) => i.node.content), p.totalCount]),
    };
    const before = await measureEach(prof, reports);
    await broadcasts('later', MORE, -20);
    const after = await measureEach(prof, reports);
    expect(JSON.parse(after.page!.result)).toEqual(['report 1']);
    expect(JSON.parse(after.list!.result)).toEqual([['report 1'], 1]);
    for (const read of ['page', 'list']) {
      expect.soft(after[read]!.hits - before[read]!.hits, after[read]!.plans).toBeLessThan(30);
    }
  });
});

/**
 * A task's or a conversation's messages (`messages(filter: { aboutTaskId | conversationId })`,
 * the console's task screen) were the tenant's messages read newest first and filtered: a task
 * with fewer messages than the page read every message of the tenant. They are now walked from
 * the task or the conversation.
 */
describe("a task's or a conversation's messages cost theirs, not the tenant's", () => {
  let server: TestServer;
  const prof = profiler();
  let taskId = '';
  let conversationId = '';
  const newest = { property: 'createdAt' as const, descending: true };
  const page = { first: 20, total: true };

  const reads = {
    aboutTask: (tx: Parameters<typeof listMessages>[0]) =>
      listMessages(tx, server.tenantId, { aboutTaskId: taskId }, newest, page).then(contents),
    inConversation: (tx: Parameters<typeof listMessages>[0]) =>
      listMessages(tx, server.tenantId, { conversationId }, newest, page).then(contents),
  };

  const others = (n: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, $n) AS i
          CREATE (:Message {id: randomUUID(), tenantId: $t, kind: 'CHAT', broadcast: false,
                            content: 'other ' + i, conversationId: randomUUID(), seq: 1,
                            createdAt: datetime() + duration({seconds: i})})`,
        params: { t: server.tenantId, n: neo4j.int(n) },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    const ada = (await createOperators(server, { Ada: ['survey'] })).Ada!;
    taskId = (await createPlan(server, [{ key: 'root', title: 'Survey the bridge' }])).root!;
    const sent = await server.gql<
      { sendMessage: { conversation: { id: string } } },
      { to: string; about: string }
    >(
      `mutation($to: ID!, $about: ID!) {
         sendMessage(
           input: { content: "about the bridge", toAgentIds: [$to], aboutTaskId: $about }
         ) {
           conversation { id }
         }
       }`,
      { to: ada, about: taskId },
    );
    expect(sent.errors).toBeUndefined();
    conversationId = sent.data!.sendMessage.conversation.id;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('reads as much with 300 more messages in the tenant', async () => {
    await others(10);
    const before = await measureEach(prof, reads);
    await others(MORE);
    const after = await measureEach(prof, reads);
    for (const name of Object.keys(reads)) {
      expect(JSON.parse(after[name]!.result), name).toEqual({
        contents: ['about the bridge'],
        totalCount: 1,
      });
      expect(after[name]!.hits - before[name]!.hits, after[name]!.plans).toBeLessThan(30);
    }
  });
});

function contents(page: { items: { node: { content: string } }[]; totalCount?: number }) {
  return { contents: page.items.map((i) => i.node.content), totalCount: page.totalCount };
}
