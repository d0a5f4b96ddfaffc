import { randomUUID } from 'node:crypto';
import { TaskState } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../graph/graph.js';
import { textRequest } from '../src/a2a/remote.js';
import { generateApiKey } from '../src/auth/keys.js';
import { echoExecutor } from '../src/engine/executor.js';
import { Scheduler } from '../src/engine/scheduler.js';
import { DEFAULT_LIMITS } from '../src/limits/index.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { deleteTenant } from './utils/server.js';
import { neo4jThroughProxy, type TcpProxy } from './utils/tcp-proxy.js';

// Issue 16: an A2A task follows its workflow by reading it every half second. A read that fails
// while Neo4j is away for a moment is tried again (up to 10 s of failures): the A2A task goes on
// to its end instead of failing with the first refused read.

describe('an A2A task while Neo4j is away for a moment', { timeout: 120_000 }, () => {
  const tenantId = `test-${randomUUID()}`;
  let proxy: TcpProxy;
  let graph: Graph;
  let server: RunningServer;
  let scheduler: Scheduler;
  let adminKey: string;

  beforeAll(async () => {
    ({ proxy, graph } = await neo4jThroughProxy());
    const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
    server = await startServer({
      config: {
        env: 'test',
        host: '127.0.0.1',
        port: 0,
        limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: 1_000_000, requestTimeoutMs: 60_000 },
      },
      graph,
      logger,
      retentionSweep: false,
      relay: false,
    });
    adminKey = generateApiKey();
    await server.services.auth.ensureAdminKey(tenantId, adminKey, 'a2a outage admin');
    const made = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({
        query:
          'mutation { createAgents(inputs: [{ name: "Chief", role: CHIEF_OF_STAFF }]) { id } }',
      }),
    });
    expect(made.status).toBe(200);
    // The Chief of Staff's step takes 3 s: the A2A task is being followed when Neo4j goes.
    scheduler = new Scheduler({
      uow: server.services.uow,
      logger,
      pubsub: server.pubsub,
      executor: echoExecutor(3_000),
      pollMs: 50,
      leaseMs: 15_000,
      tenantIds: [tenantId],
    });
    scheduler.start();
  });

  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    // The breaker lets calls through again once Neo4j answers: wait for that before cleaning up.
    for (let i = 0; i < 50 && !(await graph.serverVersion().catch(() => null)); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await scheduler?.stop({ abort: true });
    await server?.close();
    await deleteTenant(graph, tenantId);
    await graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
    );
    await graph.close();
    await proxy.close();
  });

  it('goes on to COMPLETED once Neo4j is back, its failed reads tried again', async () => {
    const base = server.url.replace(/\/graphql$/, '');
    const client = await new ClientFactory().createFromUrl(base);
    const states: TaskState[] = [];
    let cut = false;
    for await (const event of client.sendMessageStream(textRequest('A brief\nWrite a brief.'), {
      serviceParameters: { Authorization: `Bearer ${adminKey}` },
    })) {
      const p = event.payload;
      if (p?.$case === 'statusUpdate' && p.value.status) states.push(p.value.status.state);
      if (p?.$case === 'task' && !cut) {
        // Submitted and followed: Neo4j goes away for 3 s (six reads of the workflow fail).
        cut = true;
        await proxy.cut();
        setTimeout(() => void proxy.restore(), 3_000);
      }
    }
    expect(cut).toBe(true);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
  });
});
