import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe, type Subscription } from './utils/ws.js';

const SharedWatch = graphql(`
  subscription SharedWatch {
    agentStatusChanged {
      agent {
        name
        status
        capabilities {
          name
        }
      }
    }
  }
`);

const SharedPause = graphql(`
  mutation SharedPause($id: ID!) {
    setAgentStatus(id: $id, status: PAUSED) {
      id
    }
  }
`);

type Watch = Subscription<{
  agentStatusChanged: { agent: { name: string; status: string; capabilities: { name: string }[] } };
}>;

/**
 * Subscribers that asked for the same thing, as the same tenant and role, share one execution
 * per event; a different role or tenant gets an execution of its own.
 */
describe('executing an event for many subscribers', () => {
  let server: TestServer;
  let other: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    other = await startTestServer();
  });
  afterAll(async () => {
    await other?.stop();
    await server?.stop();
  });

  it('runs once per group of equal subscriptions, and each subscriber gets the full result', async () => {
    const created = await server.gql(
      `mutation { createAgents(inputs: [{ name: "Shared", role: MASTER_OPERATOR, capabilities: [{ name: "watching" }] }]) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const agentId = (created.data as { createAgents: { id: string }[] }).createAgents[0]!.id;

    const admins: Watch[] = [];
    for (let i = 0; i < 12; i++) admins.push(await subscribe(server, SharedWatch));
    const viewerKey = await server.keyFor(Role.VIEWER);
    const viewers = [
      await subscribe(server, SharedWatch, undefined, viewerKey),
      await subscribe(server, SharedWatch, undefined, viewerKey),
    ];
    // Same document in another tenant, on the same server: never shares with this one.
    const outsider = await subscribe(server, SharedWatch, undefined, other.adminKey);

    const before = server.eventExecutions.executed;
    const paused = await server.gql(SharedPause, { id: agentId });
    expect(paused.errors).toBeUndefined();
    for (const watch of [...admins, ...viewers]) {
      const event = await watch.waitForNext(10_000);
      expect(event.errors).toBeUndefined();
      expect(event.data!.agentStatusChanged.agent).toEqual({
        name: 'Shared',
        status: 'PAUSED',
        capabilities: [{ name: 'watching' }],
      });
    }
    // 12 admins share one execution, 2 viewers another: not 14.
    expect(server.eventExecutions.executed - before).toBe(2);
    await expect(outsider.waitForNext(500)).rejects.toThrow(/no subscription event/);
    for (const watch of [...admins, ...viewers, outsider]) await watch.close();
  });
});
