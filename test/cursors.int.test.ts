import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

interface Connection {
  edges: { node: { id: string }; cursor: string }[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (cursor: string) =>
  JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as string[];

const TASKS = `query($first: Int, $after: String, $orderBy: TaskOrder!) {
  tasks(first: $first, after: $after, orderBy: $orderBy) {
    edges { node { id } cursor }
    pageInfo { endCursor hasNextPage }
  }
}`;

/**
 * Issue 9: tasks(after: base64url('["garbage","x"]')) reached datetime($afterValue) and
 * answered INTERNAL_SERVER_ERROR, and any position could be forged. Cursors are now signed
 * for their list and order.
 */
describe('page cursors', () => {
  let server: TestServer;
  const created: string[] = [];

  const tasks = (after: string | null, orderBy = 'CREATED_ASC', first = 3) =>
    server.gql<{ tasks: Connection }, Record<string, unknown>>(TASKS, { first, after, orderBy });

  const expectRefused = async (res: { errors?: readonly unknown[]; data?: unknown }) => {
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      message: expect.stringMatching(/^after is not a cursor of this list/),
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
  };

  beforeAll(async () => {
    server = await startTestServer();
    for (let i = 0; i < 7; i++) {
      const res = await server.gql<{ createTask: { id: string } }, { t: string }>(
        'mutation($t: String!) { createTask(input: { title: $t }) { id } }',
        { t: `Task ${String.fromCharCode(71 - i)}` },
      );
      created.push(res.data!.createTask.id);
    }
  });

  afterAll(() => server.stop());

  it('page through every task exactly once, in order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res = await tasks(after);
      expect(res.errors).toBeUndefined();
      seen.push(...res.data!.tasks.edges.map((e) => e.node.id));
      if (!res.data!.tasks.pageInfo.hasNextPage) break;
      after = res.data!.tasks.pageInfo.endCursor;
    }
    expect(seen).toEqual(created);
  });

  it('page by title and newest first too', async () => {
    const byTitle = await tasks(null, 'TITLE_ASC', 4);
    const rest = await tasks(byTitle.data!.tasks.pageInfo.endCursor, 'TITLE_ASC', 4);
    expect([...byTitle.data!.tasks.edges, ...rest.data!.tasks.edges].map((e) => e.node.id)).toEqual(
      [...created].reverse(),
    );
    const newest = await tasks(null, 'CREATED_DESC', 4);
    const older = await tasks(newest.data!.tasks.pageInfo.endCursor, 'CREATED_DESC', 4);
    expect([...newest.data!.tasks.edges, ...older.data!.tasks.edges].map((e) => e.node.id)).toEqual(
      [...created].reverse(),
    );
  });

  it('refuse a forged cursor with BAD_USER_INPUT, not an internal error', async () => {
    await expectRefused(await tasks(b64(['garbage', 'x'])));
    await expectRefused(await tasks(b64(['garbage', 'x', 'AAAAAAAAAAAAAAAAAAAAAA'])));
    await expectRefused(await tasks('not base64 at all!'));
  });

  // A client that sends `endCursor ?? ""` got the first page again, and paged for ever.
  it('refuse an empty cursor, saying to leave it out for the first page', async () => {
    const res = await tasks('');
    expect(res.errors?.[0]).toMatchObject({
      message:
        'after is empty: leave it out (or null) for the first page, or pass pageInfo.endCursor of the page before',
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
  });

  it('refuse a cursor whose position was altered', async () => {
    const first = await tasks(null);
    const [value, id, mac] = parts(first.data!.tasks.pageInfo.endCursor!);
    await expectRefused(await tasks(b64([value, created[5], mac])));
    await expectRefused(await tasks(b64(['2000-01-01T00:00:00Z', id, mac])));
    await expectRefused(await tasks(b64(['garbage', id, mac])));
  });

  it('refuse a cursor of another order or another list', async () => {
    const byCreation = (await tasks(null)).data!.tasks.pageInfo.endCursor!;
    await expectRefused(await tasks(byCreation, 'CREATED_DESC'));
    await expectRefused(await tasks(byCreation, 'TITLE_ASC'));
    const keys = await server.gql<{ apiKeys: Connection }, never>(
      '{ apiKeys(first: 1) { edges { node { id } cursor } pageInfo { endCursor hasNextPage } } }',
    );
    expect(keys.errors).toBeUndefined();
    await expectRefused(await tasks(keys.data!.apiKeys.pageInfo.endCursor));
    const conversation = await server.gql<{ sendMessage: { conversation: { id: string } } }, never>(
      'mutation { sendMessage(input: { content: "hello", broadcast: true }) { conversation { id } } }',
    );
    expect(conversation.errors).toBeUndefined();
    const messages = await server.gql(
      'query($id: ID!, $after: String) { conversation(id: $id) { messages(after: $after) { totalCount } } }',
      { id: conversation.data!.sendMessage.conversation.id, after: byCreation },
    );
    await expectRefused(messages);
  });

  it('refuse a cursor of the same list under another filter', async () => {
    // Regression: a cursor of the LESSON list was taken on the FACT list, and any filter's on
    // any other's: it was signed for the label and order only.
    for (const kind of ['LESSON', 'LESSON', 'FACT', 'FACT']) {
      const res = await server.gql(
        'mutation($kind: KnowledgeKind) { recordKnowledge(input: { content: "A rule.", kind: $kind }) { id } }',
        { kind } as never,
      );
      expect(res.errors).toBeUndefined();
    }
    const KNOWLEDGE = `query($filter: KnowledgeFilter, $after: String) {
      knowledgeItems(filter: $filter, first: 1, after: $after) { pageInfo { endCursor } }
    }`;
    type Answer = { knowledgeItems: { pageInfo: { endCursor: string } } };
    const knowledge = (kind: string | null, after: string | null = null) =>
      server.gql<Answer, Record<string, unknown>>(KNOWLEDGE, {
        filter: kind ? { kind } : null,
        after,
      });
    const lessons = (await knowledge('LESSON')).data!.knowledgeItems.pageInfo.endCursor;
    expect((await knowledge('LESSON', lessons)).errors).toBeUndefined();
    await expectRefused(await knowledge('FACT', lessons));
    await expectRefused(await knowledge(null, lessons));
    const all = (await knowledge(null)).data!.knowledgeItems.pageInfo.endCursor;
    await expectRefused(await knowledge('LESSON', all));
    const FILTERED = `query($after: String, $status: [TaskStatus!]) {
      tasks(first: 2, after: $after, filter: { status: $status }) { pageInfo { endCursor } }
    }`;
    const pending = await server.gql<{ tasks: Connection }, Record<string, unknown>>(FILTERED, {
      status: ['PENDING'],
    });
    const cursor = pending.data!.tasks.pageInfo.endCursor!;
    await expectRefused(await tasks(cursor));
    const other = { after: cursor, status: ['COMPLETED'] };
    await expectRefused(await server.gql(FILTERED, other as never));
    const same = { after: cursor, status: ['PENDING'] };
    expect((await server.gql(FILTERED, same as never)).errors).toBeUndefined();
  });
});
