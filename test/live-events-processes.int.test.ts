import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { parseExposition, total } from './utils/prom-text.js';
import { runEntry, runWorker, type AppProcess } from './utils/process.js';
import { freePort, NO_REDIS } from './utils/redis.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 14: two API instances and two workers, each a process of its own (`npm start`'s
// src/cli/main.ts and `npm run worker`'s src/cli/worker.ts), one Redis, one Neo4j. Revoking a
// key on B closes its sockets on A within a second, and a key's rate holds across both. A
// subscriber of instance A hears every task of a workflow started on instance B and run by the
// workers go through its lifecycle, in order, to COMPLETED, counted against workflow(taskId) on
// A: each task's events are numbered in commit order (seq), and the subscriber, there before
// the tasks were created, hears every number from 1, in order, none twice.

const neo4j = inject('neo4j');
const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn(NO_REDIS);

/** Requests per minute per key, on each instance: counted together through Redis. */
const PER_MINUTE = 30;

/** Where a task's status may go next: each heard transition must be one of these. */
const LIFECYCLE = ['PENDING', 'READY', 'IN_PROGRESS', 'COMPLETED'];

describe.skipIf(!redisUrl)('live events across API and worker processes', () => {
  const prefix = `test:${randomUUID()}:`;
  const processes: AppProcess[] = [];
  const urls: { http: string; ws: string }[] = [];
  let tenant: TestServer; // only for its tenant and admin key, made in the shared Neo4j

  beforeAll(async () => {
    tenant = await startTestServer();
    for (let i = 0; i < 2; i++) {
      const api = runEntry('src/cli/main.ts', {
        PORT: String(await freePort()),
        NEO4J_URI: neo4j.uri,
        NEO4J_USER: neo4j.user,
        NEO4J_PASSWORD: neo4j.password,
        NEO4J_DATABASE: neo4j.database,
        REDIS_URL: redisUrl!,
        REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      });
      processes.push(api);
      const [, http, ws] = await api.waitFor(/ready at (\S+) \(subscriptions: (\S+)\)/, 90_000);
      urls.push({ http: http!, ws: ws! });
    }
    for (const n of [1, 2]) {
      const workerId = `proc-${n}-${prefix.slice(5, 13)}`;
      const worker = runWorker({
        REDIS_URL: redisUrl!,
        REDIS_KEY_PREFIX: prefix,
        ECHO_DELAY_MS: '20',
        WORKER_ID: workerId,
        WORKER_TENANTS: tenant.tenantId,
      });
      processes.push(worker);
      await worker.waitFor(new RegExp(`Worker ${workerId} running`), 90_000);
    }
  }, 240_000);
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await tenant?.stop();
  });

  /** A GraphQL request to an instance, with a key; answers the HTTP status and the body. */
  const post = async <T>(on: number, key: string, query: string, variables: object = {}) => {
    const res = await fetch(urls[on]!.http, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as { data?: T; errors?: unknown[] } };
  };

  /** A GraphQL request to an instance, as the tenant's admin. */
  const gql = async <T>(on: number, query: string, variables: object = {}): Promise<T> => {
    const { body } = await post<T>(on, tenant.adminKey, query, variables);
    expect(body.errors).toBeUndefined();
    return body.data!;
  };

  /** Live subscriptions instance `on` serves now, from its own /metrics. */
  const subscriptionsOn = async (on: number) => {
    const text = await (await fetch(urls[on]!.http.replace(/\/graphql$/, '/metrics'))).text();
    return total(parseExposition(text), 'agent_platform_subscriptions_active', {
      topic: 'TASK_UPDATED',
    });
  };

  it('a subscriber of A hears every event of every task of a workflow started on B, in order, to COMPLETED', async () => {
    await gql(
      1,
      `mutation { createAgents(inputs: [{ name: "Echo", role: MASTER_OPERATOR, capabilities: [{ name: "echo" }] }]) { id } }`,
    );

    const heard = new Map<string, string[]>();
    const numbers = new Map<string, number[]>();
    const eventIds: string[] = [];
    let rootId: string | undefined;
    let rootDone = false;
    let client: Client | undefined;
    const done = new Promise<void>((resolve, reject) => {
      client = createClient({
        url: urls[0]!.ws,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${tenant.adminKey}` },
        retryAttempts: 0,
      });
      // Every task of the tenant (this suite's own): the subscription starts before any exists.
      client.subscribe<{ taskUpdated: { seq: number; task: { id: string; status: string } } }>(
        { query: `subscription { taskUpdated { seq task { id status } } }` },
        {
          next: (r) => {
            if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
            eventIds.push(String((r.extensions as { eventId?: string } | undefined)?.eventId));
            const { seq, task } = r.data!.taskUpdated;
            const { id, status } = task;
            numbers.set(id, [...(numbers.get(id) ?? []), seq]);
            const seen = heard.get(id) ?? [];
            if (seen.at(-1) !== status) seen.push(status); // a change of something else
            heard.set(id, seen);
            rootDone ||= id === rootId && status === 'COMPLETED';
            if (rootDone) resolve();
          },
          error: reject,
          complete: () => resolve(),
        },
      );
    });
    try {
      const deadline = performance.now() + 30_000;
      while ((await subscriptionsOn(0)) < 1) {
        if (performance.now() > deadline)
          throw new Error('instance A never registered the subscription');
        await new Promise((r) => setTimeout(r, 100));
      }
      const { createTasks } = await gql<{ createTasks: { id: string; key: string }[] }>(
        1,
        `mutation { createTasks(inputs: [
          { key: "root", title: "Heard across processes" },
          { key: "a", title: "Step a", parentKey: "root", requiredCapabilities: ["echo"] },
          { key: "b", title: "Step b", parentKey: "root", requiredCapabilities: ["echo"] },
          { key: "c", title: "Step c", parentKey: "root", requiredCapabilities: ["echo"] },
          { key: "d", title: "Step d", parentKey: "root", dependsOnKeys: ["a", "b", "c"] }
        ]) { id key } }`,
      );
      rootId = createTasks.find((t) => t.key === 'root')!.id;
      await gql(1, `mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, { id: rootId });
      await Promise.race([
        done,
        new Promise((_, reject) =>
          setTimeout(
            () =>
              reject(new Error(`the root's COMPLETED never came: ${JSON.stringify([...heard])}`)),
            90_000,
          ),
        ),
      ]);
    } finally {
      await client?.dispose();
    }

    // Counted against the workflow as instance A reads it: every task heard, each event of it
    // (numbers 1, 2, ... with none missing or repeated), only going forward and ending
    // COMPLETED; every step run by a worker process; no event twice.
    const { workflow } = await gql<{
      workflow: { tasks: { id: string; status: string; runs: { worker: string }[] }[] };
    }>(0, `query($id: ID!) { workflow(taskId: $id) { tasks { id status runs { worker } } } }`, {
      id: rootId!,
    });
    expect(workflow.tasks).toHaveLength(5);
    expect([...heard.keys()].sort()).toEqual(workflow.tasks.map((t) => t.id).sort());
    for (const task of workflow.tasks) {
      const seqs = numbers.get(task.id)!;
      expect(seqs, `${task.id}: ${seqs.join(', ')}`).toEqual(seqs.map((_, i) => i + 1));
      const statuses = heard.get(task.id)!;
      expect(task.status).toBe('COMPLETED');
      expect(statuses.at(-1), statuses.join(' > ')).toBe('COMPLETED');
      const order = statuses.map((s) => LIFECYCLE.indexOf(s));
      expect(order, statuses.join(' > ')).toEqual([...order].sort((x, y) => x - y));
      if (task.id !== rootId) {
        expect(statuses, statuses.join(' > ')).toContain('IN_PROGRESS');
        expect(task.runs.every((r) => r.worker.startsWith('proc-'))).toBe(true);
      }
    }
    expect(new Set(eventIds).size).toBe(eventIds.length);
  }, 180_000);

  /** A new key of the tenant, made on instance B. */
  const newKey = async (name: string) =>
    (
      await gql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
        1,
        `mutation($name: String!) { createApiKey(role: VIEWER, name: $name) { apiKey { id } secret } }`,
        { name },
      )
    ).createApiKey;

  it('closes a revoked key’s sockets on A within a second of its revocation on B', async () => {
    const { apiKey, secret } = await newKey('revoked across processes');
    const client = createClient({
      url: urls[0]!.ws,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${secret}` },
      retryAttempts: 0,
    });
    const ended = new Promise<string>((resolve) => {
      client.on('closed', (event) => resolve(String((event as { code?: number }).code)));
    });
    client.subscribe(
      { query: 'subscription { taskUpdated { seq } }' },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    const deadline = performance.now() + 30_000;
    while ((await subscriptionsOn(0)) < 1) {
      if (performance.now() > deadline)
        throw new Error('instance A never registered the subscription');
      await new Promise((r) => setTimeout(r, 100));
    }
    const revoked = performance.now();
    await gql(1, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id });
    expect(await ended).toBe('4403');
    expect(performance.now() - revoked).toBeLessThan(1_000);
    await client.dispose();
  }, 60_000);

  it('holds a key to its rate however its requests are spread over A and B', async () => {
    const { secret } = await newKey('limited across processes');
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE + 4; i++) {
      statuses.push((await post(i % 2, secret, '{ viewer { keyId } }')).status);
    }
    // Each instance alone would have allowed all of its 17.
    expect(statuses.filter((s) => s === 200)).toHaveLength(PER_MINUTE);
    expect(statuses.slice(PER_MINUTE)).toEqual([429, 429, 429, 429]);
  }, 60_000);
});
