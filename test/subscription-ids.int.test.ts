import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/auth/keys.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

/*
 * A subscription on an id checks the id when it is made: an unknown id, or another tenant's,
 * is refused with NOT_FOUND at once (the same answer for both) instead of waiting forever for
 * events that cannot come. Over graphql-ws, as clients subscribe.
 */

interface Ids {
  agent: string;
  task: string;
  conversation: string;
  document: string;
}

type Case = [name: string, query: string, ids: (ids: Ids) => Record<string, unknown>, what: string];

const CASES: Case[] = [
  [
    'taskUpdated(taskId)',
    'subscription($id: ID) { taskUpdated(taskId: $id) { seq } }',
    (i) => ({ id: i.task }),
    'Task',
  ],
  [
    'taskUpdated(rootId)',
    'subscription($id: ID) { taskUpdated(rootId: $id) { seq } }',
    (i) => ({ id: i.task }),
    'Task',
  ],
  [
    'stepTokens(taskId)',
    'subscription($id: ID) { stepTokens(taskId: $id) { token } }',
    (i) => ({ id: i.task }),
    'Task',
  ],
  [
    'stepTokens(agentId)',
    'subscription($id: ID) { stepTokens(agentId: $id) { token } }',
    (i) => ({ id: i.agent }),
    'Agent',
  ],
  [
    'toolCalls(taskId)',
    'subscription($id: ID) { toolCalls(taskId: $id) { tool } }',
    (i) => ({ id: i.task }),
    'Task',
  ],
  [
    'toolCalls(agentId)',
    'subscription($id: ID) { toolCalls(agentId: $id) { tool } }',
    (i) => ({ id: i.agent }),
    'Agent',
  ],
  [
    'agentStatusChanged(agentId)',
    'subscription($id: ID) { agentStatusChanged(agentId: $id) { previousStatus } }',
    (i) => ({ id: i.agent }),
    'Agent',
  ],
  [
    'messageSent(agentId)',
    'subscription($id: ID) { messageSent(agentId: $id) { id } }',
    (i) => ({ id: i.agent }),
    'Agent',
  ],
  [
    'messageSent(conversationId)',
    'subscription($id: ID) { messageSent(conversationId: $id) { id } }',
    (i) => ({ id: i.conversation }),
    'Conversation',
  ],
  [
    'chatTokens(conversationId)',
    'subscription($id: ID) { chatTokens(conversationId: $id) { token } }',
    (i) => ({ id: i.conversation }),
    'Conversation',
  ],
  [
    'chatTokens(agentId)',
    'subscription($id: ID) { chatTokens(agentId: $id) { token } }',
    (i) => ({ id: i.agent }),
    'Agent',
  ],
  [
    'documentProgress(id)',
    'subscription($id: ID!) { documentProgress(id: $id) { status } }',
    (i) => ({ id: i.document }),
    'Document',
  ],
  [
    'budgetWarning(scope: TASK, id)',
    'subscription($id: ID) { budgetWarning(scope: TASK, id: $id) { unit } }',
    (i) => ({ id: i.task }),
    'Task',
  ],
  [
    'budgetWarning(scope: AGENT, id)',
    'subscription($id: ID) { budgetWarning(scope: AGENT, id: $id) { unit } }',
    (i) => ({ id: i.agent }),
    'Agent',
  ],
  [
    'budgetWarning(id)',
    'subscription($id: ID) { budgetWarning(id: $id) { unit } }',
    (i) => ({ id: i.agent }),
    'Agent or task',
  ],
];

type Doc = TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;

describe('subscriptions on an id', () => {
  let server: TestServer;
  const otherTenant = `test-${randomUUID()}`;
  const otherKey = generateApiKey();
  let ids: Ids;

  beforeAll(async () => {
    server = await startTestServer();
    await server.services.auth.ensureAdminKey(otherTenant, otherKey, 'other admin');
    const made = await server.gql<Record<string, { id: string }>, never>(`mutation {
      agent: createAgent(input: { name: "Watched", role: MASTER_OPERATOR }) { id }
      task: createTask(input: { title: "Watched" }) { id }
      document: ingestDocument(title: "Watched", text: "A short note.") { id }
    }`);
    expect(made.errors).toBeUndefined();
    const sent = await server.gql<{ sendMessage: { conversation: { id: string } } }, never>(
      `mutation($to: ID!) { sendMessage(input: { content: "hi", toAgentIds: [$to] }) {
        conversation { id } } }`,
      { to: made.data!.agent!.id } as never,
    );
    expect(sent.errors).toBeUndefined();
    ids = {
      agent: made.data!.agent!.id,
      task: made.data!.task!.id,
      document: made.data!.document!.id,
      conversation: sent.data!.sendMessage.conversation.id,
    };
  });
  afterAll(async () => {
    await deleteTenant(server.graph, otherTenant);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $id}) DELETE t', params: { id: otherTenant } }),
    );
    await server.stop();
  });

  /** The first answer to a subscription, which then ends. */
  async function firstAnswer(doc: Doc, variables: Record<string, unknown>, key?: string) {
    const sub = await subscribe(server, doc, variables, key);
    try {
      return await sub.waitForNext(10_000);
    } finally {
      await sub.close();
    }
  }

  it.each(CASES)(
    '%s: refuses an unknown id and another tenant’s alike, with NOT_FOUND, and takes its own',
    async (_name, query, idsOf, what) => {
      const doc = parse(query) as Doc;
      const unknown = randomUUID();
      const refused = await firstAnswer(doc, { id: unknown });
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(refused.errors?.[0]?.message).toBe(`${what} "${unknown}" does not exist`);

      const own = idsOf(ids);
      const foreign = await firstAnswer(doc, own, otherKey);
      expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(foreign.errors?.[0]?.message).toBe(`${what} "${own.id as string}" does not exist`);

      // Its own id is taken: the server makes the subscription instead of answering.
      const before = server.pubsub.subscriptionsMade();
      const sub = await subscribe(server, doc, own);
      expect(server.pubsub.subscriptionsMade()).toBe(before + 1);
      await sub.close();
    },
  );

  it('hears the changes of its own task once taken', async () => {
    const sub = await subscribe(
      server,
      parse('subscription($id: ID) { taskUpdated(taskId: $id) { task { title } } }') as Doc,
      { id: ids.task },
    );
    try {
      const updated = await server.gql(
        `mutation($id: ID!) { updateTask(id: $id, input: { title: "Watched, renamed" }) { id } }`,
        { id: ids.task } as never,
      );
      expect(updated.errors).toBeUndefined();
      const event = await sub.waitForNext(10_000);
      expect(event.data).toEqual({ taskUpdated: { task: { title: 'Watched, renamed' } } });
    } finally {
      await sub.close();
    }
  });

  it('takes the tenant’s own id for a tenant budget, and refuses any other', async () => {
    const doc = parse('subscription($id: ID) { budgetWarning(scope: TENANT, id: $id) { unit } }');
    const before = server.pubsub.subscriptionsMade();
    const sub = await subscribe(server, doc as Doc, { id: server.tenantId });
    expect(server.pubsub.subscriptionsMade()).toBe(before + 1);
    await sub.close();
    const foreign = await firstAnswer(doc as Doc, { id: server.tenantId }, otherKey);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(foreign.errors?.[0]?.message).toBe(`Tenant "${server.tenantId}" does not exist`);
  });
});

describe('subscriptions on an id, the edges', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('refuses a budget watch on a step, as setBudget does: its budget is the root’s', async () => {
    const made = await server.gql<{ root: { id: string } }, never>(
      'mutation { root: createTask(input: { title: "Budgeted root" }) { id } }',
    );
    const step = await server.gql<{ createTask: { id: string } }, never>(
      'mutation($p: ID) { createTask(input: { title: "A step", parentId: $p }) { id } }',
      { p: made.data!.root.id } as never,
    );
    for (const query of [
      'subscription($id: ID) { budgetWarning(scope: TASK, id: $id) { unit } }',
      'subscription($id: ID) { budgetWarning(id: $id) { unit } }',
    ]) {
      const sub = await subscribe(server, parse(query) as Doc, { id: step.data!.createTask.id });
      const refused = await sub.waitForNext(10_000).finally(() => sub.close());
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toMatch(/give the root task's id, not the step/);
    }
  });

  it('resumes with `after` on an agent deleted since: the events missed come first', async () => {
    // A client that lost its socket resumes from the last event it had; what happened since
    // (here: the agent's deletion) is what it must hear, not NOT_FOUND for the id.
    const made = await server.gql<{ createAgent: { id: string } }, never>(
      'mutation { createAgent(input: { name: "Resumed", role: MASTER_OPERATOR }) { id } }',
    );
    const id = made.data!.createAgent.id;
    const doc = parse(
      'subscription($id: ID, $after: ID) { agentStatusChanged(agentId: $id, after: $after) { previousStatus agent { status } } }',
    ) as Doc;
    const first = await subscribe(server, doc, { id });
    const setStatus = (status: string) =>
      server.gql(`mutation($id: ID!) { setAgentStatus(id: $id, status: ${status}) { id } }`, {
        id,
      } as never);
    expect((await setStatus('PAUSED')).errors).toBeUndefined();
    const heard = await first.waitForNext(10_000).finally(() => first.close());
    const after = (heard.extensions as { eventId?: string } | undefined)?.eventId;
    expect(after).toBeTruthy();
    expect((await setStatus('IDLE')).errors).toBeUndefined();
    const gone = await server.gql(`mutation($id: ID!) { deleteAgent(id: $id) { __typename } }`, {
      id,
    } as never);
    expect(gone.errors).toBeUndefined();
    const resumed = await subscribe(server, doc, { id, after });
    const missed = await resumed.waitForNext(10_000).finally(() => resumed.close());
    expect(missed.errors).toBeUndefined();
    expect(missed.data).toMatchObject({ agentStatusChanged: { previousStatus: 'PAUSED' } });
  });
});
