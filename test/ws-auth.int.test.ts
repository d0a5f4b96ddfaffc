import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Role } from '../src/domain/auth.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const Watch = graphql(`
  subscription WsAuthWatch {
    agentStatusChanged {
      agent {
        name
      }
    }
  }
`);

const Create = graphql(`
  mutation WsAuthCreate($name: String!) {
    createAgent(input: { name: $name, role: MASTER_OPERATOR }) {
      id
    }
  }
`);

/** Connects with connection_init `params` and resolves with the close code, or 'connected'. */
function connectOutcome(
  url: string,
  params: Record<string, unknown>,
): Promise<number | 'connected'> {
  return new Promise((resolve) => {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: params,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: {
        connected: () => {
          resolve('connected');
          void client.dispose();
        },
        closed: (event) => resolve((event as { code: number }).code),
      },
    });
  });
}

describe('WebSocket authentication', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('closes the socket with 4403 for a missing, unknown or malformed key', async () => {
    expect(await connectOutcome(server.wsUrl, {})).toBe(4403);
    expect(await connectOutcome(server.wsUrl, { authorization: 'Bearer ap_nope' })).toBe(4403);
    expect(await connectOutcome(server.wsUrl, { authorization: 42 })).toBe(4403);
    expect(await connectOutcome(server.wsUrl, { authorization: `Bearer ${server.adminKey}` })).toBe(
      'connected',
    );
  });

  // Written as the HTTP header is ("Authorization", as Sandbox's headers are), it was refused.
  it('reads the key from connection_init in any letter case of "authorization"', async () => {
    const bearer = `Bearer ${server.adminKey}`;
    expect(await connectOutcome(server.wsUrl, { Authorization: bearer })).toBe('connected');
    expect(await connectOutcome(server.wsUrl, { AUTHORIZATION: bearer })).toBe('connected');
    expect(await connectOutcome(server.wsUrl, { Authorization: 'Bearer ap_nope' })).toBe(4403);
  });

  it('lets a VIEWER key subscribe, and ends the subscription when that key is revoked', async () => {
    const viewerKey = await server.keyFor(Role.VIEWER);
    const sub = await subscribe(server, Watch, undefined, viewerKey);
    try {
      await server.gql(Create, { name: 'Seen by the viewer' });
      const event = await sub.waitForNext();
      expect(event.data?.agentStatusChanged.agent.name).toBe('Seen by the viewer');

      const keys = await server.gql(`{ apiKeys(first: 100) { nodes { id name } } }`);
      const viewer = (
        keys.data as { apiKeys: { nodes: { id: string; name: string }[] } }
      ).apiKeys.nodes.find((k) => k.name === 'test VIEWER')!;
      const revoked = await server.gql(
        `mutation { revokeApiKey(id: "${viewer.id}") { revokedAt } }`,
      );
      expect(revoked.errors).toBeUndefined();

      const end = await sub.waitForNext();
      // The socket itself was closed (not only the operation ended), and a close frame is the
      // last thing a socket carries: nothing can reach the revoked key after it, so no quiet
      // window needs waiting out.
      expect(end.errors?.[0]?.message).toMatch(/^closed 4403: Forbidden/);

      // The revoked key no longer works anywhere.
      expect(await connectOutcome(server.wsUrl, { authorization: `Bearer ${viewerKey}` })).toBe(
        4403,
      );
      const http = await server.gql('{ viewer { keyId } }', undefined, {
        authorization: `Bearer ${viewerKey}`,
      });
      expect(http.status).toBe(401);
      expect(http.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(http.errors?.[0]?.message).toBe('This API key has been revoked');
    } finally {
      await sub.close();
    }
  });
});
