import { TaskState, type Task } from '@a2a-js/sdk';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textRequest } from '../src/a2a/remote.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { Role } from '../src/domain/auth.js';
import { createOfflineOrganisation, startScheduler } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 16, part 3: the platform as an A2A agent, driven by the SDK's own client: the card,
// a message that becomes a task, streamed to its end, read back, cancelled; refusals as GraphQL's.

const WORKFLOW_MS = 90_000;

const send = textRequest;
const as = (key: string) => ({ serviceParameters: { Authorization: `Bearer ${key}` } });
const textOf = (task: Task) =>
  task.artifacts
    .flatMap((a) => a.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')))
    .join('');

describe('the platform as an A2A agent', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let other: TestServer;
  let client: Client;
  let base: string;
  let stopScheduler: () => Promise<void>;

  beforeAll(async () => {
    server = await startTestServer();
    other = await startTestServer();
    await createOfflineOrganisation(server);
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    stopScheduler = () => scheduler.stop();
    base = server.url.replace(/\/graphql$/, '');
    client = await new ClientFactory().createFromUrl(base);
  });
  afterAll(async () => {
    await stopScheduler?.();
    await server?.stop();
    await other?.stop();
  });

  it('publishes a card anyone can read, and the tenant’s skills to its keys only', async () => {
    const res = await fetch(`${base}/.well-known/agent-card.json`);
    expect(res.status).toBe(200);
    const card = (await res.json()) as {
      supportedInterfaces: { url: string; protocolBinding: string }[];
      capabilities: Record<string, unknown>;
      skills: unknown[];
      securitySchemes: Record<string, unknown>;
    };
    expect(card.supportedInterfaces[0]).toMatchObject({
      url: `${base}/a2a`,
      protocolBinding: 'JSONRPC',
    });
    expect(card.capabilities).toMatchObject({ streaming: true, extendedAgentCard: true });
    expect(card.skills ?? []).toEqual([]); // JSON leaves an empty list out
    expect(card.securitySchemes).toEqual({
      apiKey: { httpAuthSecurityScheme: expect.objectContaining({ scheme: 'Bearer' }) },
    });
    const extended = await client.getAgentCard(as(server.adminKey));
    expect(extended.skills.map((s) => s.id)).toEqual(['general', 'research', 'writing']);
  });

  it('takes a message as a task, streams it to its end, and gives its result as an artifact', async () => {
    const states: TaskState[] = [];
    let task: Task | undefined;
    for await (const event of client.sendMessageStream(
      send(
        'Electric bike market brief\nResearch the market for electric bikes in Europe. Then write a brief.',
      ),
      as(server.adminKey),
    )) {
      const p = event.payload;
      if (p?.$case === 'task') task = p.value;
      if (p?.$case === 'statusUpdate' && p.value.status) states.push(p.value.status.state);
    }
    expect(task).toBeDefined();
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(states).toContain(TaskState.TASK_STATE_WORKING);
    const read = await client.getTask(
      { tenant: '', id: task!.id, historyLength: undefined },
      as(server.adminKey),
    );
    expect(read.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(textOf(read).length).toBeGreaterThan(0);
    // The same task in the platform's own API, with the same result.
    const platformId = read.metadata?.platformTaskId as string;
    const mine = await server.gql(`query($id: ID!) { task(id: $id) { title status result } }`, {
      id: platformId,
    } as never);
    expect(mine.data).toEqual({
      task: { title: 'Electric bike market brief', status: 'COMPLETED', result: textOf(read) },
    });
    // Another tenant's key does not see it.
    await expect(
      client.getTask({ tenant: '', id: task!.id, historyLength: undefined }, as(other.adminKey)),
    ).rejects.toThrow(/not found/i);
    const audit = await server.gql(
      `query { auditEvents(filter: { operation: "a2a.SendStreamingMessage" }, first: 5) { nodes { outcome } } }`,
    );
    expect(audit.data).toEqual({ auditEvents: { nodes: [{ outcome: 'SUCCESS' }] } });
  });

  // Names refuse control and text-direction characters (validate.ts): the title A2A makes of
  // a message's first line must not carry them, or a tab in it refuses the whole task.
  it('makes a title of a first line with tabs and control characters', async () => {
    const sent = (await client.sendMessage(
      send('Tabbed\tbrief\u0007 on \u202Ebikes\r\nThe details.', true),
      as(server.adminKey),
    )) as Task;
    expect(sent.status?.state).not.toBe(TaskState.TASK_STATE_REJECTED);
    const platformId = sent.metadata?.platformTaskId as string;
    const mine = await server.gql(`query($id: ID!) { task(id: $id) { title } }`, {
      id: platformId,
    } as never);
    expect(mine.data).toEqual({ task: { title: 'Tabbed brief on bikes' } });
    await client.cancelTask({ tenant: '', id: sent.id, metadata: undefined }, as(server.adminKey));
  });

  it('cancels a task, in A2A and in the platform', async () => {
    const sent = await client.sendMessage(
      send('A long survey\nSurvey every e-bike maker.', true),
      as(server.adminKey),
    );
    const task = (sent as Task).id ? (sent as Task) : undefined;
    expect(task).toBeDefined();
    const cancelled = await client.cancelTask(
      { tenant: '', id: task!.id, metadata: undefined },
      as(server.adminKey),
    );
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    const platformId = task!.metadata?.platformTaskId as string;
    const mine = await server.gql(`query($id: ID!) { task(id: $id) { status } }`, {
      id: platformId,
    } as never);
    expect(mine.data).toEqual({ task: { status: 'CANCELLED' } });
  });

  it('refuses a VIEWER cancelling a task as GraphQL does, not as an internal error', async () => {
    const sent = (await client.sendMessage(
      send('A slow survey\nSurvey every tram maker.', true),
      as(server.adminKey),
    )) as Task;
    const viewer = await server.keyFor(Role.VIEWER);
    const res = await fetch(`${base}/a2a`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}`, 'a2a-version': '1.0' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'CancelTask',
        params: { id: sent.id },
      }),
    });
    const body = (await res.json()) as { error?: { code: number; message: string } };
    expect(body.error).toMatchObject({
      code: -32000,
      message: 'FORBIDDEN: Mutation.cancelTask needs the OPERATOR role; this key has VIEWER',
    });
    const still = await client.getTask({ tenant: '', id: sent.id, historyLength: 0 }, as(viewer));
    expect(still.status?.state).not.toBe(TaskState.TASK_STATE_CANCELED);
    await client.cancelTask({ tenant: '', id: sent.id, metadata: undefined }, as(server.adminKey));
  });

  it('refuses as GraphQL does: no key, a VIEWER sending a task', async () => {
    await expect(client.sendMessage(send('No key'))).rejects.toThrow(/401|UNAUTHENTICATED/);
    const viewer = await server.keyFor(Role.VIEWER);
    const sent = (await client.sendMessage(send('A viewer asks'), as(viewer))) as Task;
    expect(sent.status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    const why = sent.status?.message?.parts[0]?.content;
    expect(why?.$case === 'text' && why.value).toMatch(/^FORBIDDEN: /);
  });
});
