import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * README walk: nested lists (`Agent.tasks(first:)`) and `skills(first:)` refused a bad page
 * size without `extensions.field`, which the root lists' refusals carry. Every list's `first`
 * and `after` now name their field, root or nested alike.
 */

let server: TestServer;
let agentId = '';
let conversationId = '';

beforeAll(async () => {
  server = await startTestServer();
  const res = await server.gql(`mutation {
    a: createAgent(input: { name: "Pager", role: MASTER_OPERATOR }) { id }
    c: createConversation(title: "Paging") { id }
  }`);
  expect(res.errors).toBeUndefined();
  const d = res.data as { a: { id: string }; c: { id: string } };
  agentId = d.a.id;
  conversationId = d.c.id;
});

afterAll(() => server?.stop());

const LISTS: { name: string; query: (first: number) => string }[] = [
  { name: 'agents', query: (n) => `{ agents(first: ${n}) { totalCount } }` },
  { name: 'skills', query: (n) => `{ skills(first: ${n}) { id } }` },
  {
    name: 'Agent.tasks',
    query: (n) => `{ agent(id: "${agentId}") { tasks(first: ${n}) { id } } }`,
  },
  {
    name: 'Agent.messages',
    query: (n) => `{ agent(id: "${agentId}") { messages(first: ${n}) { id } } }`,
  },
  {
    name: 'Conversation.messages',
    query: (n) =>
      `{ conversation(id: "${conversationId}") { messages(first: ${n}) { totalCount } } }`,
  },
];

describe('page arguments', () => {
  it.each(LISTS)('$name refuses first: 0 and 500 naming the field first', async (list) => {
    for (const n of [0, 500]) {
      const res = await server.gql(list.query(n));
      expect(res.errors?.[0], JSON.stringify(res)).toMatchObject({
        message: `first must be between 1 and 100, but got ${n}`,
        extensions: { code: 'BAD_USER_INPUT', field: 'first' },
      });
    }
  });

  it('a nested list refuses a cursor that is not its own naming the field after', async () => {
    const res = await server.gql(
      `{ conversation(id: "${conversationId}") { messages(after: "junk") { totalCount } } }`,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});
