/**
 * A worker process of `npm run bench:orchestration` (its `processes` part): one Scheduler with
 * the benchmark's no-op executor and settings, serving the benchmark's tenant, in a process of
 * its own, as `npm run worker` runs the engine minus the agents. Its events stay in its own
 * process (in-process bus, no outbox), as the schedulers' of the in-process parts do, so the two
 * layouts differ only in where the schedulers run. Started by bench/worker-processes.ts, which
 * waits for "Worker <id> running" and gives it the environment a `npm run worker` gets
 * (NEO4J_*, WORKER_ID, WORKER_TENANTS, ENGINE_CONCURRENCY); SIGTERM lets running steps finish,
 * then it writes what its probe saw (bench/probe.ts) to <BENCH_PROFILE_DIR>/<WORKER_ID>.json.
 * With REDIS_URL (and REDIS_KEY_PREFIX), its events go to that Redis and READY steps reach it
 * through Redis dispatch (src/engine/dispatch.ts), as a `npm run worker` with REDIS_URL does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectGraph } from '../graph/graph.js';
import type { Executor } from '../src/engine/executor.js';
import { offerSteps, openDispatch } from '../src/engine/dispatch.js';
import { Scheduler } from '../src/engine/scheduler.js';
import { createLogger } from '../src/logger.js';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { LEASE_MS, PER_AGENT_LIMIT, POLL_MS, QUEUE_POLL_MS } from './context.js';
import { InstrumentedUnitOfWork, Probe } from './probe.js';
import { profileOf, profileToJson } from './report.js';

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (bench/worker-processes.ts sets it)`);
    return value;
  };
  const workerId = env('WORKER_ID');
  const profileFile = join(env('BENCH_PROFILE_DIR'), `${workerId}.json`);
  const settings = {
    uri: env('NEO4J_URI'),
    user: env('NEO4J_USER'),
    password: env('NEO4J_PASSWORD'),
    database: env('NEO4J_DATABASE'),
  };
  const graph = await connectGraph(settings, { attempts: 5, log: () => {} });
  const redis = process.env.REDIS_URL
    ? { url: process.env.REDIS_URL, prefix: env('REDIS_KEY_PREFIX') }
    : null;
  const logger = createLogger('warn');
  const pubsub = redis
    ? await createRedisPubSub({ ...redis, logger, onPublish: offerSteps(redis.prefix) })
    : createInProcessPubSub();
  const dispatch = redis ? await openDispatch(redis, logger) : undefined;
  const probe = new Probe();
  const executor: Executor = async () => ({ result: 'ok' });
  const scheduler = new Scheduler({
    uow: new InstrumentedUnitOfWork(graph, pubsub, probe),
    executor,
    logger,
    pubsub,
    dispatch,
    workerId,
    tenantIds: env('WORKER_TENANTS').split(','),
    concurrency: Number(env('ENGINE_CONCURRENCY')),
    perAgentLimit: PER_AGENT_LIMIT,
    pollMs: POLL_MS,
    queuePollMs: QUEUE_POLL_MS,
    leaseMs: LEASE_MS,
  });
  scheduler.start();
  console.log(`Worker ${workerId} running`);
  process.once('SIGTERM', () => {
    void scheduler
      .stop()
      .then(() => writeFileSync(profileFile, profileToJson(profileOf(probe))))
      .then(() => dispatch?.close())
      .then(() => pubsub.close?.())
      .then(() => graph.close())
      .then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
