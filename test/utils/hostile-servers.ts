import type { GraphQLSchema } from 'graphql';
import { expect } from 'vitest';
import { deleteTenant, startTestServer, type TestServer } from './server.js';
import { post, type OwnIds } from './hostile.js';
import { introspectSchema } from './hostile-operations.js';

/*
 * The hostile-input suites' servers: ours, seeded with one node of each kind, and another
 * tenant's that hostile input must never reach.
 */

/** The suites' servers: ours with its own ids and schema, and another tenant's. */
export interface HostileServers {
  server: TestServer;
  /** Another tenant on its own server (a 100 KB body limit): hostile input must not reach it. */
  other: TestServer;
  ids: OwnIds;
  /** The other tenant's seeded ids: hostile input may name them, never reach them. */
  otherIds: OwnIds;
  schema: GraphQLSchema;
}

/** Starts and seeds both servers and reads our schema. */
export async function startHostileServers(): Promise<HostileServers> {
  const [server, other] = await Promise.all([
    startTestServer(),
    startTestServer(undefined, { maxBodyBytes: 100_000 }),
  ]);
  const ids = await seed(server);
  const otherIds = await seed(other);
  const schema = await introspectSchema(server);
  return { server, other, ids, otherIds, schema };
}

/** Deletes the tenants that createTenant made (`createdTenants`), then stops both servers. */
export async function stopHostileServers(
  servers: Partial<HostileServers>,
  createdTenants: string[],
): Promise<void> {
  const { server, other } = servers;
  for (const tenantId of createdTenants) {
    await deleteTenant(server!.graph, tenantId);
    await server!.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
    );
  }
  await Promise.all([server?.stop(), other?.stop()]);
}

/** An agent, tasks, a conversation with a message, a knowledge item and a key in the tenant. */
async function seed(target: TestServer): Promise<OwnIds> {
  const run = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await post(target, query, variables);
    expect(res.json?.errors, res.text).toBeUndefined();
    return res.json!.data as T;
  };
  const { createAgents } = await run<{ createAgents: { id: string }[] }>(
    `mutation { createAgents(inputs: [{ name: "seed one", role: MASTER_OPERATOR, capabilities: [{ name: "seed" }] }, { name: "seed two", role: CHIEF_OF_STAFF }]) { id } }`,
  );
  const [agent, otherAgent] = createAgents.map((a) => a.id) as [string, string];
  const { createTasks } = await run<{ createTasks: { id: string }[] }>(
    `mutation($a: ID) { createTasks(inputs: [{ key: "p", title: "seed task", assigneeId: $a }, { key: "c", title: "seed subtask", parentKey: "p" }]) { id } }`,
    { a: agent },
  );
  const [task, otherTask] = createTasks.map((t) => t.id) as [string, string];
  const { sendMessage } = await run<{ sendMessage: { id: string; conversation: { id: string } } }>(
    `mutation($to: [ID!]) { sendMessage(input: { content: "seed message", toAgentIds: $to, conversationTitle: "seed" }) { id conversation { id } } }`,
    { to: [agent] },
  );
  const { recordKnowledge } = await run<{ recordKnowledge: { id: string } }>(
    `mutation($a: ID, $t: ID) { recordKnowledge(input: { content: "seed fact", tags: ["seed"], agentId: $a, taskId: $t }) { id } }`,
    { a: agent, t: task },
  );
  const { createApiKey } = await run<{ createApiKey: { apiKey: { id: string } } }>(
    `mutation { createApiKey(name: "seed viewer", role: VIEWER) { apiKey { id } } }`,
  );
  return {
    agent,
    otherAgent,
    task,
    otherTask,
    conversation: sendMessage.conversation.id,
    message: sendMessage.id,
    knowledge: recordKnowledge.id,
    apiKey: createApiKey.apiKey.id,
  };
}
