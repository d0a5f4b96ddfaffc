import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  type ImportData,
  at,
  int,
  documentOf,
  task,
  importInto,
} from './utils/import-documents.js';

/**
 * Issue 9: importOrganisation wrote any properties, so a tenant ADMIN could hand the shared
 * engine a READY step it could not read, and an import told whether an id existed in another
 * tenant. Every document now keeps the API's domain rules, and ids are re-minted alike. Here:
 * ids of other organisations (import-validation-rules.int.test.ts: the domain rules).
 */

describe('importOrganisation and ids of other organisations', () => {
  let attacker: TestServer;
  let victim: TestServer;
  let victimAgentId: string;
  beforeAll(async () => {
    attacker = await startTestServer();
    victim = await startTestServer();
    const res = await victim.gql(`mutation {
      createAgents(inputs: [{ name: "Secret", role: MASTER_OPERATOR }]) { id } }`);
    expect(res.errors).toBeUndefined();
    victimAgentId = (res.data as { createAgents: { id: string }[] }).createAgents[0]!.id;
  });
  afterAll(async () => {
    await attacker?.stop();
    await victim?.stop();
  });

  /** The answer with the document's id and the stored ids replaced: what may differ by design. */
  function shape(res: Awaited<ReturnType<typeof importInto>>, documentId: string) {
    const data = res.data as ImportData | undefined;
    return {
      errors: res.errors?.map((e) => ({
        code: e.extensions?.code,
        message: e.message.replaceAll(documentId, '<id>'),
      })),
      result: data && {
        ...data.importOrganisation,
        nodeIds: data.importOrganisation.nodeIds.map((id) => (id === documentId ? '<id>' : 'new')),
      },
    };
  }

  it('gives a foreign id the same answer as a fresh one, with and without merge', async () => {
    for (const merge of [false, true]) {
      const answers = [];
      for (const id of [victimAgentId, randomUUID()]) {
        const doc = documentOf([
          {
            label: 'Knowledge',
            id,
            properties: { kind: 'FACT', content: 'probe', createdAt: at, updatedAt: at },
          },
        ]);
        const res = await importInto(attacker, doc, merge);
        expect(res.errors).toBeUndefined();
        answers.push(shape(res, id));
        // Neither id names a node the attacker can read: both were stored under new ids.
        const node = await attacker.gql(`query { node(id: "${id}") { id } }`);
        expect(node.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
        const [stored] = (res.data as ImportData).importOrganisation.nodeIds;
        expect(stored).not.toBe(id);
        expect(
          (await attacker.gql(`query { node(id: "${stored}") { id } }`)).errors,
        ).toBeUndefined();
      }
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]!.result).toMatchObject({ nodesCreated: 1, nodesUpdated: 0 });
    }
    // The victim's agent is untouched.
    const own = await victim.gql(
      `query { node(id: "${victimAgentId}") { ... on Agent { name } } }`,
    );
    expect(own.data).toEqual({ node: { name: 'Secret' } });
  });

  it('keeps none of the ids of a document signed for another organisation', async () => {
    const exported = await victim.gql(`query { exportOrganisation }`);
    expect(exported.errors).toBeUndefined();
    const doc = (exported.data as { exportOrganisation: { nodes: { id: string }[] } })
      .exportOrganisation;
    const res = await importInto(attacker, doc);
    expect(res.errors).toBeUndefined();
    const stored = (res.data as ImportData).importOrganisation.nodeIds;
    expect(stored).toHaveLength(doc.nodes.length);
    expect(stored.filter((id) => doc.nodes.some((n) => n.id === id))).toEqual([]);
  });

  it('points id-holding properties at re-minted ids: messages by conversation and usage by task still add up', async () => {
    const [conv, msg, t, agent, run, call] = [1, 2, 3, 4, 5, 6].map(() => randomUUID()) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const doc = documentOf(
      [
        {
          label: 'Conversation',
          id: conv,
          properties: { messageCount: int(1), createdAt: at, updatedAt: at },
        },
        {
          label: 'Message',
          id: msg,
          properties: {
            kind: 'CHAT',
            content: 'moved',
            conversationId: conv,
            seq: int(1),
            createdAt: at,
          },
        },
        task(t, { status: 'COMPLETED' }),
        {
          label: 'Agent',
          id: agent,
          properties: {
            name: `Mover ${agent}`,
            role: 'MASTER_OPERATOR',
            status: 'IDLE',
            active: true,
            version: int(1),
            createdAt: at,
            updatedAt: at,
          },
        },
        {
          label: 'Run',
          id: run,
          properties: {
            status: 'SUCCEEDED',
            attempt: int(1),
            startedAt: at,
            createdAt: at,
            updatedAt: at,
          },
        },
        {
          label: 'LLMCall',
          id: call,
          properties: {
            runId: run,
            taskId: t,
            agentId: agent,
            promptTokens: int(5),
            completionTokens: int(2),
            totalTokens: int(7),
            costUsd: 0.5,
            createdAt: at,
            updatedAt: at,
          },
        },
      ],
      [
        { type: 'IN', from: msg, to: conv, properties: {} },
        { type: 'OF', from: run, to: t, properties: {} },
        { type: 'BY', from: run, to: agent, properties: {} },
        { type: 'CALLED', from: run, to: call, properties: {} },
      ],
    );
    const res = await importInto(victim, doc, true);
    expect(res.errors).toBeUndefined();
    const [newConv, , newTask] = (res.data as ImportData).importOrganisation.nodeIds;
    expect(newConv).not.toBe(conv); // not this organisation's signed export: re-minted

    const read = await victim.gql(
      `query($c: ID!, $t: ID!) {
        messages(filter: { conversationId: $c }) { nodes { content } }
        task(id: $t) { llmUsage { calls totalTokens costUsd } }
      }`,
      { c: newConv, t: newTask } as never,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({
      messages: { nodes: [{ content: 'moved' }] },
      task: { llmUsage: { calls: 1, totalTokens: 7, costUsd: 0.5 } },
    });
  });
});
