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
 * `subscription_delivery_lag_seconds` on the default (in-process) event bus: the time from an
 * event's publication to its result's sending. It once counted from the bus's creation (an
 * in-process event id begins with the process's start, not its publication), so every event
 * of a server up for an hour showed an hour's lag.
 */
describe('the delivery lag of live events', () => {
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

  async function lag(): Promise<{ count: number; sum: number }> {
    const res = await fetch(server.metricsUrl!, { headers: { authorization: `Bearer ${TOKEN}` } });
    const samples = parseExposition(await res.text());
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
});
