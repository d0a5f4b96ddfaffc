/**
 * `npm run bench:subscriptions`: how fast one status change reaches 100, 1,000 and 5,000
 * graphql-ws subscribers, and what the fan-out costs the mutation and the API's memory. Not a
 * test (`npm test` does not run it); it prints figures and exits 0 whether or not the goals
 * are met.
 *
 * An API server (startServer, the real one) runs in this process against the local Neo4j;
 * the subscribers run in a worker thread (subscribers.worker.ts), each socket with one
 * `agentStatusChanged(agentId)` subscription, either plain (the agent's id and status) or with
 * a related field (its capabilities, read through a DataLoader from Neo4j). One round = one
 * `setAgentStatus` mutation over HTTP; delivery = each subscriber's receive time minus the
 * moment the mutation was sent; the next round starts once every subscriber has its result.
 * While the rounds run, the API's event loop delay is sampled: its maximum is how long any
 * other request could have waited behind the fan-out.
 *
 * Runs, in this order: in-process events with shared execution (the product), the same
 * without sharing (BASELINE: every subscriber executes every event, as before issue 14), and
 * Redis Streams with shared execution when redis-server is installed (started here on a port
 * of its own). Ratios compare with the baseline and plain selections measured in this run.
 * BENCH_SUBSCRIBERS=100,1000 picks the sizes.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { generateApiKey } from '../src/auth/keys.js';
import { AgentRole } from '../src/domain/agent.js';
import { createLogger } from '../src/logger.js';
import type { startServer } from '../src/server/server.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { TOPICS } from '../subscriptions/topics.js';
import { redisServerBinary, startRedisServer } from '../test/utils/redis.js';
import { deleteTenantNodes } from './queries.js';
import { openBenchGraph, startBenchServer } from './server.js';
import { int, ms, percentile, ratio } from './stats.js';

// A full collection before each heap reading, so it shows what the subscribers hold.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SIZES = (process.env.BENCH_SUBSCRIBERS ?? '100,1000,5000').split(',').map(Number);
const ROUNDS = (n: number) => (n >= 5_000 ? 5 : 10);
const SELECTIONS = {
  plain: 'agent { id status }',
  related: 'agent { id status capabilities { name } }',
} as const;
type Selection = keyof typeof SELECTIONS;

interface Row {
  run: string;
  selection: Selection;
  n: number;
  delivery: number[];
  mutation: number[];
  heapMb: number;
  executionsPerEvent: number;
  /** The longest the API's event loop was blocked during the rounds (other requests wait). */
  loopBlockedMs: number;
  /** Results that carried errors (an overloaded Neo4j refusing the loaders' reads). */
  errors: number;
}

async function main(): Promise<void> {
  const { graph } = await openBenchGraph();
  const tenantId = `bench-${randomUUID()}`;
  const redisBinary = redisServerBinary();
  const redis = redisBinary ? await startRedisServer() : null;
  const runs: { name: string; bus: () => Promise<PubSub>; share: boolean }[] = [
    { name: 'in-process', bus: async () => createInProcessPubSub(), share: true },
    {
      name: 'in-process, unshared (baseline)',
      bus: async () => createInProcessPubSub(),
      share: false,
    },
  ];
  if (redis) {
    const prefix = `bench:${randomUUID()}:`;
    const logger = createLogger('silent');
    runs.push({
      name: 'Redis',
      bus: () => createRedisPubSub({ url: redis.url, logger, prefix }),
      share: true,
    });
  }
  console.log(
    [
      `Subscriptions benchmark in tenant ${tenantId}: sizes ${SIZES.map(int).join(', ')}; ` +
        `${ROUNDS(100)} status changes per size (${ROUNDS(5_000)} at 5,000)`,
      `  runs: ${runs.map((r) => r.name).join('; ')}${redis ? '' : ' (no redis-server: Redis skipped)'}`,
    ].join('\n'),
  );

  const rows: Row[] = [];
  const worker = new Worker(new URL('./subscribers.worker.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
  });
  try {
    for (const run of runs) {
      const pubsub = await run.bus();
      const server = await startBenchServer(
        graph,
        { pubsub, shareEventExecution: run.share },
        { maxSubscriptionsPerKey: 1_000_000, maxSubscriptionsPerSocket: 10 },
      );
      const key = generateApiKey();
      await server.services.auth.ensureAdminKey(tenantId, key, 'bench');
      const [agent] = await server.services.agents.createMany(tenantId, [
        {
          name: `bench agent ${randomUUID().slice(0, 8)}`,
          role: AgentRole.MASTER_OPERATOR,
          capabilities: ['search', 'write', 'review'].map((name) => ({ name })),
        },
      ]);
      const mutate = mutationOver(worker, server.url, key, agent!.id);
      try {
        for (const n of SIZES) {
          for (const selection of Object.keys(SELECTIONS) as Selection[]) {
            console.log(`\n${run.name}, ${int(n)} subscribers, ${selection} selection...`);
            const row = await measure(worker, server, {
              key,
              agentId: agent!.id,
              n,
              selection,
              mutate,
            });
            rows.push({ ...row, run: run.name });
            print(rows.at(-1)!);
          }
        }
      } finally {
        await server.close();
        await pubsub.close?.();
      }
    }
    summary(rows);
  } finally {
    await worker.terminate();
    await redis?.dispose();
    const deleted = await deleteTenantNodes(graph, tenantId);
    console.log(`\nDeleted the ${int(deleted)} nodes of tenant ${tenantId}.`);
    await graph.close();
  }
}

/** One size and selection: subscribe n, run the rounds, unsubscribe. */
async function measure(
  worker: Worker,
  server: Awaited<ReturnType<typeof startServer>>,
  o: {
    key: string;
    agentId: string;
    n: number;
    selection: Selection;
    mutate: () => Promise<{ mutated: number; sentAt: number }>;
  },
): Promise<Omit<Row, 'run'>> {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const query = `subscription($id: ID) { agentStatusChanged(agentId: $id) { previousStatus ${SELECTIONS[o.selection]} } }`;
  worker.postMessage({
    open: { url: server.wsUrl, key: o.key, query, variables: { id: o.agentId }, n: o.n },
  });
  await reply(worker, 'opened');
  while (server.pubsub.subscriberCount(TOPICS.agentStatusChanged) < o.n) await sleep(20);
  gc();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  // One round unmeasured: the first event after subscribing pays for compiling the code paths.
  worker.postMessage({ expect: 'warm-up' });
  const warmed = reply(worker, 'received');
  await o.mutate();
  await warmed;
  const executedBefore = server.eventExecutions.executed;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const delivery: number[] = [];
  const mutation: number[] = [];
  let errors = 0;
  const rounds = ROUNDS(o.n);
  for (let round = 0; round < rounds; round++) {
    worker.postMessage({ expect: round });
    const received = reply(worker, 'received');
    const { mutated, sentAt } = await o.mutate();
    mutation.push(mutated);
    const { times, errors: failed } = (await received) as { times: number[]; errors: number };
    delivery.push(...times.map((t) => t - sentAt));
    errors += failed;
  }
  loop.disable();
  const loopBlockedMs = loop.max / 1e6;
  const executionsPerEvent = (server.eventExecutions.executed - executedBefore) / rounds;
  worker.postMessage({ close: true });
  await reply(worker, 'closed');
  while (server.pubsub.subscriberCount(TOPICS.agentStatusChanged) > 0) await sleep(20);
  return {
    selection: o.selection,
    n: o.n,
    delivery,
    mutation,
    heapMb,
    executionsPerEvent,
    loopBlockedMs,
    errors,
  };
}

/** setAgentStatus over HTTP from the worker, alternating PAUSED and IDLE. */
function mutationOver(worker: Worker, url: string, key: string, agentId: string) {
  let changes = 0; // not the round: a size's last status must not be the next size's first
  return async () => {
    const paused = changes++ % 2 === 0;
    worker.postMessage({
      mutate: {
        url,
        key,
        query:
          'mutation($id: ID!, $s: AgentStatus!) { setAgentStatus(id: $id, status: $s) { id } }',
        variables: { id: agentId, s: paused ? 'PAUSED' : 'IDLE' },
      },
    });
    return (await reply(worker, 'mutated')) as { mutated: number; sentAt: number };
  };
}

/** The worker's next message with `field`; rejects on an error it reports. */
function reply(worker: Worker, field: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.postMessage({ status: true });
      worker.once('message', (m: Record<string, unknown>) =>
        failed(
          new Error(`no "${field}" from the subscribers in 120 s: ${JSON.stringify(m.status)}`),
        ),
      );
    }, 120_000);
    const done = () => {
      clearTimeout(timer);
      worker.off('message', on);
      worker.off('error', failed);
    };
    const failed = (err: unknown) => {
      done();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const on = (msg: Record<string, unknown>) => {
      if (msg.error) failed(new Error(`a subscriber got an error: ${String(msg.error)}`));
      else if (field in msg) {
        done();
        resolve(msg);
      }
    };
    worker.on('message', on);
    worker.on('error', failed);
  });
}

function print(r: Row): void {
  console.log(
    `  delivery p50 ${ms(percentile(r.delivery, 50))}, p99 ${ms(percentile(r.delivery, 99))}, ` +
      `max ${ms(Math.max(...r.delivery))}; mutation p50 ${ms(percentile(r.mutation, 50))}, ` +
      `max ${ms(Math.max(...r.mutation))}; API heap +${r.heapMb.toFixed(1)} MB; ` +
      `${r.executionsPerEvent.toFixed(1)} executions per event; ` +
      `API event loop blocked at most ${ms(r.loopBlockedMs)}` +
      (r.errors ? `; ${int(r.errors)} results with errors` : ''),
  );
}

function summary(rows: Row[]): void {
  const find = (run: string, selection: Selection, n: number) =>
    rows.find((r) => r.run === run && r.selection === selection && r.n === n);
  const p99 = (r: Row | undefined) => (r ? percentile(r.delivery, 99) : NaN);
  console.log("\n== Summary (p99 delivery; ratios against this run's own baselines) ==");
  for (const n of SIZES) {
    const shared = find('in-process', 'related', n);
    const baseline = find('in-process, unshared (baseline)', 'related', n);
    const plain = find('in-process', 'plain', n);
    const redis = find('Redis', 'related', n);
    console.log(
      `${int(n).padStart(5)} subscribers: related field ${ms(p99(shared))} shared vs ${ms(p99(baseline))} unshared ` +
        `(${ratio(p99(baseline), p99(shared))} faster); related/plain ${ratio(p99(shared), p99(plain))} (goal <= 2x)` +
        (redis
          ? `; through Redis ${ms(p99(redis))} (${ratio(p99(redis), p99(shared))} of in-process)`
          : ''),
    );
  }
  const largest = Math.max(...SIZES);
  const smallest = Math.min(...SIZES);
  const big = find('in-process', 'plain', largest);
  const small = find('in-process', 'plain', smallest);
  if (big && small) {
    console.log(
      `${int(largest)} subscribers, plain: p99 ${ms(p99(big))} (goal < 250 ms); mutation p50 ` +
        `${ms(percentile(big.mutation, 50))} vs ${ms(percentile(small.mutation, 50))} at ${int(smallest)} ` +
        `(${ratio(percentile(big.mutation, 50), percentile(small.mutation, 50))}; goal: independent of subscribers); ` +
        `API event loop blocked at most ${ms(big.loopBlockedMs)}`,
    );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
