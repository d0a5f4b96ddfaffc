import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';

let server: TestServer;
let agentId: string;

beforeAll(async () => {
  server = await startTestServer();
  const created = await server.gql<{ createAgent: { id: string } }, Record<string, never>>(
    `mutation { createAgent(input: { name: "locks", role: MASTER_OPERATOR }) { id } }`,
  );
  agentId = created.data!.createAgent.id;
});

afterAll(async () => server?.stop());

describe('chat and the agent’s lock', () => {
  // Regression: the person's message and the reply were each read back twice in the
  // transaction that wrote them, and the write holds the agent's lock until the commit, so
  // concurrent chats with one agent (and its replies) queued one extra round trip each; on a
  // loaded machine a chat request ran past the 15 s request timeout (hostile-sweeps.int.test.ts).
  it('reads each chat message back once in the transaction that writes it', async () => {
    const turn = () =>
      statementsFor(server, async () => {
        const res = await server.gql<{ chat: { replyId: string } }, Record<string, string>>(
          `mutation($a: ID!) { chat(agentId: $a, message: "hello") { replyId } }`,
          { a: agentId },
        );
        expect(res.errors).toBeUndefined();
        await server.services.chat.idle();
      });
    // The request: the agent; the episodes waiting (TENANT_MAX_PENDING_EPISODES), the message,
    // its read-back, the audit event. The reply: the conversation, the budgets, the model
    // call's record; the reply, its read-back, the chat turn's episode.
    expect(await turn()).toBe(11);
  });
});
