import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { connectGraph } from '../graph/graph.js';
import { otherInstances } from '../graph/instance.repository.js';
import { joinInstances } from '../subscriptions/instances.js';
import { runEntry, runWorker, type AppProcess } from './utils/process.js';
import { freePort, startRedisServer } from './utils/redis.js';

const neo4j = inject('neo4j');
const redisUrl = inject('redisUrl');

/**
 * Processes whose live events could not reach every subscriber are refused at start, with one
 * line naming REDIS_URL: a second API instance without a shared bus, or a process on Redis
 * beside an API instance that is not on it.
 */
describe('several processes on one database', () => {
  const started: AppProcess[] = [];
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(started.map((p) => p.exited));
  });

  const api = async (env: Record<string, string> = {}) => {
    const app = runEntry('src/cli/main.ts', {
      PORT: String(await freePort()),
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.user,
      NEO4J_PASSWORD: neo4j.password,
      NEO4J_DATABASE: neo4j.database,
      INSTANCE_CHECK: 'on',
      REDIS_URL: '',
      ...env,
    });
    started.push(app);
    return app;
  };
  const refusal = async (app: AppProcess) => {
    expect(await app.exited).toBe(1);
    const lines = app.output().trim().split('\n');
    return lines.at(-1)!;
  };

  it('refuses a second API instance without REDIS_URL, and a process on Redis beside it, but not a worker without it', async () => {
    const first = await api();
    await first.waitFor(/ready at/);

    const second = await api();
    expect(await refusal(second)).toMatch(
      /^Cannot start: API instance .* \(without REDIS_URL\) runs against this Neo4j and this API instance is without REDIS_URL: .*REDIS_URL/,
    );
    // The way out when the other process is known to be gone, or missed events are accepted.
    expect(await refusal(second)).toMatch(/lapses 15 s after .*INSTANCE_CHECK=off/);

    if (redisUrl) {
      const onRedis = runWorker({
        INSTANCE_CHECK: 'on',
        REDIS_URL: redisUrl,
        WORKER_TENANTS: 'nobody',
      });
      started.push(onRedis);
      expect(await refusal(onRedis)).toMatch(
        /^Cannot start: API instance .* \(without REDIS_URL\) runs against this Neo4j and this worker is with REDIS_URL/,
      );
    }

    // A worker without REDIS_URL hands its events over through Neo4j: welcome.
    const handing = runWorker({ INSTANCE_CHECK: 'on', REDIS_URL: '', WORKER_TENANTS: 'nobody' });
    started.push(handing);
    await handing.waitFor(/Worker .* running/);
    handing.child.kill('SIGTERM');
    expect(await handing.exited).toBe(0); // stopped cleanly: its record goes with it

    // Once the first has stopped (its record goes with it), another may start.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const next = await api();
    await next.waitFor(/ready at/);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 120_000);
  // Streams are keys per server, database and prefix: two buses on one Neo4j never hear each
  // other, yet both said only "with REDIS_URL" and passed.
  it.runIf(redisUrl)(
    'refuses a process on another Redis server, database number or key prefix, naming both',
    async () => {
      const prefix = `instances-${randomUUID()}:`;
      const other = await startRedisServer();
      const shown = (url: string, p = prefix) => `${url}/0, REDIS_KEY_PREFIX "${p}"`;
      const worker = (env: Record<string, string>) => {
        const w = runWorker({ INSTANCE_CHECK: 'on', WORKER_TENANTS: 'nobody', ...env });
        started.push(w);
        return w;
      };
      try {
        const first = await api({ REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: prefix });
        await first.waitFor(/ready at/);
        const firstIs = `API instance .* \\(with REDIS_URL ${escape(shown(redisUrl!))}\\)`;
        const refused = async (env: Record<string, string>, self: string) => {
          const line = await refusal(worker(env));
          expect(line).toMatch(new RegExp(`^Cannot start: ${firstIs} runs against this Neo4j`));
          expect(line).toContain(`this worker is with REDIS_URL ${self}:`);
          expect(line).toContain('the same REDIS_URL and REDIS_KEY_PREFIX');
        };
        await refused({ REDIS_URL: other.url, REDIS_KEY_PREFIX: prefix }, shown(other.url));
        await refused(
          { REDIS_URL: `${redisUrl}/5`, REDIS_KEY_PREFIX: prefix },
          `${redisUrl}/5, REDIS_KEY_PREFIX "${prefix}"`,
        );
        await refused(
          { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `${prefix}b:` },
          shown(redisUrl!, `${prefix}b:`),
        );
        // The same bus written another way (database 0 spelled out) is the same bus: welcome.
        const same = worker({ REDIS_URL: `${redisUrl}/0`, REDIS_KEY_PREFIX: prefix });
        await same.waitFor(/Worker .* running/);
        same.child.kill('SIGTERM');
        expect(await same.exited).toBe(0);
        first.child.kill('SIGTERM');
        expect(await first.exited).toBe(0);
      } finally {
        await other.dispose();
      }
    },
    120_000,
  );
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe("the instance registry, on the database's clock", () => {
  afterEach(() => void vi.useRealTimers());

  it('sees a live instance from a process whose clock runs a minute ahead', async () => {
    const graph = await connectGraph(neo4j, { log: () => {}, attempts: 3 });
    const logger = { warn: () => {} };
    // No other process of this suite still counts as alive (a killed one for up to 15 s).
    const quiet = () => graph.read((tx) => otherInstances(tx, '', 15_000));
    for (const deadline = performance.now() + 30_000; (await quiet()).length > 0;) {
      if (performance.now() > deadline) throw new Error('other instances stayed registered');
      await new Promise((r) => setTimeout(r, 250));
    }
    const workerId = `worker-${randomUUID()}`;
    const worker = await joinInstances({
      graph,
      self: { id: workerId, role: 'worker', bus: 'redis', redis: null },
      logger,
    });
    try {
      // On a machine a minute ahead, the worker's heartbeat looked 15 s stale: an API instance
      // without Redis took it for gone and started, deaf to the worker's events.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + 60_000);
      const self = {
        id: `api-${randomUUID()}`,
        role: 'api' as const,
        bus: 'in-process',
        redis: null,
      };
      const joined = await joinInstances({ graph, self, logger }).then(
        (api) => api.stop().then(() => 'started'),
        (err: Error) => err.message,
      );
      expect(joined).toContain(`worker ${workerId} (with REDIS_URL) runs against this Neo4j`);
    } finally {
      vi.useRealTimers();
      await worker.stop();
      await graph.close();
    }
  });
});
