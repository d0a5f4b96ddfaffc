import type { ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Role } from '../src/domain/auth.js';
import { TOPICS } from '../subscriptions/topics.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const WATCH = 'subscription { agentStatusChanged { agent { id name } } }';
const TOPIC = TOPICS.agentStatusChanged;

const LifecycleWatch = graphql(`
  subscription LifecycleWatch {
    agentStatusChanged {
      agent {
        name
      }
    }
  }
`);

const LifecycleCreateAgents = graphql(`
  mutation LifecycleCreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
    }
  }
`);

/** Polls until `condition` holds or `timeoutMs` passes; the caller asserts afterwards. */
async function settle(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** Like settle, but a condition still false at the end is a failure naming `what`. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await settle(condition, timeoutMs);
  if (!condition()) throw new Error(`waited ${timeoutMs} ms for ${what}`);
}

interface Operation {
  id: string;
  events: ExecutionResult[];
  errors: { message: string; extensions?: Record<string, unknown> }[] | null;
  complete(): void;
}

/** One graphql-ws socket carrying many operations; every message it receives is recorded. */
async function openSocket(server: TestServer, key = server.adminKey) {
  let n = 0;
  const received: { id?: string; type: string }[] = [];
  let connected!: () => void;
  const isConnected = new Promise<void>((r) => (connected = r));
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    generateID: () => `op-${++n}`,
    on: { connected: () => connected(), message: (m) => received.push(m as never) },
  });
  await isConnected;
  return {
    received,
    /** Starts an operation; resolves once the server has made its pub/sub subscription or answered. */
    async start(query = WATCH): Promise<Operation> {
      const made = server.pubsub.subscriptionsMade();
      const op: Operation = { id: '', events: [], errors: null, complete: () => {} };
      op.complete = client.subscribe(
        { query },
        {
          next: (e) => op.events.push(e as ExecutionResult),
          error: (e) => (op.errors = e as Operation['errors']),
          complete: () => {},
        },
      );
      op.id = `op-${n}`;
      await until(
        () => op.errors !== null || server.pubsub.subscriptionsMade() > made,
        `operation ${op.id} to be registered`,
      );
      return op;
    },
    close: () => client.dispose(),
  };
}

describe('subscriptions end when the client is done with them', () => {
  let server: TestServer;
  let agents = 0;
  const createAgent = async () => {
    const res = await server.gql(LifecycleCreateAgents, {
      inputs: [{ name: `Lifecycle ${++agents}`, role: 'MASTER_OPERATOR' }],
    });
    expect(res.errors).toBeUndefined();
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('leaves no pub/sub subscriber and sends no event after complete, over many cycles (issue 9 leak)', async () => {
    const baseline = server.pubsub.subscriberCount(TOPIC);
    const socket = await openSocket(server);
    const completed = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const op = await socket.start();
      expect(op.errors).toBeNull();
      op.complete();
      completed.add(op.id);
    }
    await settle(() => server.pubsub.subscriberCount(TOPIC) === baseline);
    expect(server.pubsub.subscriberCount(TOPIC)).toBe(baseline);

    // Positive control on the same socket: two events arrive on a live subscription, so any
    // event for a completed one would have arrived as well.
    const control = await socket.start();
    await createAgent();
    await until(() => control.events.length === 1, 'the first control event');
    await createAgent();
    await until(() => control.events.length === 2, 'the second control event');
    const late = socket.received.filter((m) => m.type === 'next' && completed.has(m.id!));
    expect(late).toEqual([]);

    control.complete();
    await socket.close();
    await settle(() => server.pubsub.subscriberCount(TOPIC) === baseline);
    expect(server.pubsub.subscriberCount(TOPIC)).toBe(baseline);
  });

  it('leaves no pub/sub subscriber after the socket closes (issue 9 leak)', async () => {
    const baseline = server.pubsub.subscriberCount();
    const socket = await openSocket(server);
    for (let i = 0; i < 10; i++) expect((await socket.start()).errors).toBeNull();
    expect(server.pubsub.subscriberCount()).toBe(baseline + 10);
    await socket.close();
    await settle(() => server.pubsub.subscriberCount() === baseline);
    expect(server.pubsub.subscriberCount()).toBe(baseline);
  });
});

describe('subscription limits', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(undefined, {
      maxSubscriptionsPerSocket: 3,
      maxSubscriptionsPerKey: 5,
      maxBufferedEvents: 3,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });
  // Each test starts with no live subscriber of the topic (an earlier test's sockets are gone).
  const live = () => server.pubsub.subscriberCount(TOPIC);
  beforeEach(async () => {
    await until(() => live() === 0, 'the earlier tests’ subscriptions to end');
  });

  it('refuses a subscription over the per-socket limit with LIMIT_EXCEEDED, and frees a slot on complete', async () => {
    const socket = await openSocket(server);
    try {
      const ops = [];
      for (let i = 0; i < 3; i++) ops.push(await socket.start());
      expect(ops.map((o) => o.errors)).toEqual([null, null, null]);

      const refused = await socket.start();
      expect(refused.errors?.[0]?.extensions).toEqual({
        code: 'LIMIT_EXCEEDED',
        limit: 'subscriptionsPerSocket',
        max: 3,
      });
      expect(refused.errors?.[0]?.message).toMatch(/limit is 3; complete one/);

      ops[0]!.complete();
      await until(() => live() === 2, 'the completion');
      expect((await socket.start()).errors).toBeNull();
    } finally {
      await socket.close();
    }
  });

  it('refuses a subscription over the per-key limit across sockets, and frees them when a socket closes', async () => {
    const key = await server.keyFor(Role.VIEWER);
    const first = await openSocket(server, key);
    const second = await openSocket(server, key);
    try {
      for (let i = 0; i < 3; i++) expect((await first.start()).errors).toBeNull();
      for (let i = 0; i < 2; i++) expect((await second.start()).errors).toBeNull();
      const refused = await second.start();
      expect(refused.errors?.[0]?.extensions).toEqual({
        code: 'LIMIT_EXCEEDED',
        limit: 'subscriptionsPerKey',
        max: 5,
      });

      // Another key is not held to this key's count.
      const other = await openSocket(server);
      expect((await other.start()).errors).toBeNull();
      await other.close();
      await until(() => live() === 5, 'the other key’s socket to close');

      await first.close();
      await until(() => live() === 2, 'the first socket to close');
      expect((await second.start()).errors).toBeNull();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('ends a subscriber that falls too far behind with a LIMIT_EXCEEDED error', async () => {
    const sub = await subscribe(server, LifecycleWatch);
    try {
      // One commit publishes ten events at once: more than the 3 this subscriber may buffer.
      const res = await server.gql(LifecycleCreateAgents, {
        inputs: Array.from({ length: 10 }, (_, i) => ({
          name: `Burst ${i}`,
          role: 'MASTER_OPERATOR' as const,
        })),
      });
      expect(res.errors).toBeUndefined();
      const heard = [];
      for (;;) {
        const event = await sub.waitForNext();
        if (event.errors) {
          expect(event.errors[0]?.extensions).toEqual({
            code: 'LIMIT_EXCEEDED',
            limit: 'bufferedEvents',
            max: 3,
          });
          expect(event.errors[0]?.message).toMatch(/more than 3 events were waiting/);
          break;
        }
        heard.push(event);
      }
      expect(heard.length).toBeLessThan(10);
      expect(live()).toBe(0);
    } finally {
      await sub.close();
    }
  });
});
