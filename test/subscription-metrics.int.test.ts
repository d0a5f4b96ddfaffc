import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { parseExposition, total } from './utils/prom-text.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const LagWatch = graphql(`
  subscription LagWatch {
    taskUpdated {
      task {
        id
      }
    }
  }
`);

const TOKEN = 'lag-scrape-token';
const LAG = 'agent_platform_subscription_delivery_lag_seconds';

/**
 * The metrics of live events. `subscription_delivery_lag_seconds` on the default (in-process)
 * event bus: the time from an event's publication to its result's sending. It once counted from the bus's creation (an
 * in-process event id begins with the process's start, not its publication), so every event
 * of a server up for an hour showed an hour's lag.
 */
describe('the metrics of live events', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(
      undefined,
      {},
      undefined,
      {},
      { metrics: { enabled: true, token: TOKEN, port: null, host: '127.0.0.1' } },
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function scrape() {
    const res = await fetch(server.metricsUrl!, { headers: { authorization: `Bearer ${TOKEN}` } });
    return parseExposition(await res.text());
  }

  async function lag(): Promise<{ count: number; sum: number }> {
    const samples = await scrape();
    const field = { subscription: 'taskUpdated' };
    return {
      count: total(samples, `${LAG}_count`, field),
      sum: total(samples, `${LAG}_sum`, field),
    };
  }

  it('counts from the event’s publication, however long the server has been up', async () => {
    const events = await subscribe(server, LagWatch);
    try {
      // The server (and its event bus) is now at least 3 s older than the event below.
      await new Promise((r) => setTimeout(r, 3_000));
      const before = await lag();
      const made = await server.gql(`mutation { createTask(input: { title: "lag" }) { id } }`);
      expect(made.errors).toBeUndefined();
      await events.waitForNext();
      let after = before;
      for (let i = 0; i < 50 && after.count === before.count; i++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await lag();
      }
      expect(after.count).toBeGreaterThan(before.count);
      // Published and sent within one request's time on loopback: far under the bus's age.
      expect((after.sum - before.sum) / (after.count - before.count)).toBeLessThan(1);
    } finally {
      await events.close();
    }
  });

  /** One subscription over its own socket, until the server ends it or refuses it. */
  function refusedOverWs(query: string, variables: Record<string, unknown>, key: string) {
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    return new Promise<void>((resolve) => {
      client.subscribe(
        { query, variables },
        { next: () => {}, error: () => resolve(), complete: resolve },
      );
    }).finally(() => client.dispose());
  }

  it('counts the errors sent over WebSocket by code, as over HTTP', async () => {
    const errors = async () => {
      const samples = await scrape();
      const of = (code: string) => total(samples, 'agent_platform_graphql_errors_total', { code });
      return {
        invalid: of('GRAPHQL_VALIDATION_FAILED'),
        bad: of('BAD_USER_INPUT'),
        key: of('UNAUTHENTICATED'),
      };
    };
    const before = await errors();
    await refusedOverWs('subscription { nope }', {}, server.adminKey);
    await refusedOverWs(
      'subscription($a: ID) { taskUpdated(after: $a) { seq } }',
      { a: 'garbage' },
      server.adminKey,
    );
    await refusedOverWs('subscription { taskUpdated { seq } }', {}, 'ap_not-a-key');
    const after = await errors();
    expect({
      invalid: after.invalid - before.invalid,
      bad: after.bad - before.bad,
      key: after.key - before.key,
    }).toEqual({ invalid: 1, bad: 1, key: 1 });
  });
});
