/**
 * `npm run bench:tenant-noise`: a quiet tenant's request latency while a noisy tenant sends as
 * much as its API keys allow, with the per-key limits only (what there was before tenant
 * budgets) and with the tenant budgets (TENANT_* as set, else their defaults). Not a test: it
 * prints p50 and p99 of the quiet tenant's requests alone and beside the noise, and exits 0.
 *
 * The noisy tenant has BENCH_NOISY_KEYS keys (default 6) with BENCH_NOISY_LANES requests in
 * flight each (default 20) for BENCH_NOISE_SECONDS (default 10); a refused request waits its
 * Retry-After (at most 1 s) as a polite client would. The quiet tenant reads the same page of
 * agents, one request at a time, every 20 ms. Each side's clients run on a thread of their own.
 * Both settings run twice, alternated.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { generateApiKey } from '../src/auth/keys.js';
import type { LimitsConfig } from '../src/limits/index.js';
import { openBenchGraph, startBenchServer } from './server.js';
import { ms, percentile } from './stats.js';

const KEYS = Number(process.env.BENCH_NOISY_KEYS ?? 6);
const LANES = Number(process.env.BENCH_NOISY_LANES ?? 20);
const SECONDS = Number(process.env.BENCH_NOISE_SECONDS ?? 10);
const READ = '{ agents(first: 20) { nodes { id name role status } } }';
const CREATE = 'mutation($i: [CreateAgentInput!]!) { createAgents(inputs: $i) { id } }';

/**
 * The clients, on threads of their own so the server's thread only serves: `lanes` loops per
 * key, each sending `query` until `seconds` pass and pausing `pauseMs` after each answer; a
 * refusal waits its Retry-After (at most 1 s). Posts the latencies of the answered requests.
 */
const CLIENTS = `
const { workerData, parentPort } = require('node:worker_threads');
const { url, keys, lanes, query, seconds, pauseMs } = workerData;
const end = Date.now() + seconds * 1000;
const times = [];
let refused = 0;
async function lane(key) {
  while (Date.now() < end) {
    const started = performance.now();
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ query }),
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key } });
    await res.text();
    if (res.status === 200) times.push(performance.now() - started);
    else refused++;
    const retry = res.status === 200 ? 0 : Math.min(1, Number(res.headers.get('retry-after') ?? 1));
    await new Promise((r) => setTimeout(r, retry * 1000 + pauseMs));
  }
}
Promise.all(keys.flatMap((k) => Array.from({ length: lanes }, () => lane(k))))
  .then(() => parentPort.postMessage({ times, refused }));
`;

interface Clients {
  url: string;
  keys: string[];
  lanes: number;
  seconds: number;
  pauseMs: number;
}

/** Runs clients on a thread of their own until their time is up. */
async function clients(opts: Clients): Promise<{ times: number[]; refused: number }> {
  const worker = new Worker(CLIENTS, { eval: true, workerData: { ...opts, query: READ } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  const { graph, config } = await openBenchGraph();
  const without: [string, Partial<LimitsConfig>] = [
    'per-key limits only',
    {
      rateLimitPerMinute: config.limits.rateLimitPerMinute,
      tenantRateLimitPerMinute: 1_000_000_000,
      tenantMaxConcurrentRequests: 1_000_000,
      tenantMaxQueuedRequests: 1_000_000,
    },
  ];
  const { tenantMaxConcurrentRequests: turns, tenantRateLimitPerMinute: rate } = config.limits;
  const budgets: [string, Partial<LimitsConfig>] = [
    `tenant budgets (${rate} a minute, ${turns} at once)`,
    config.limits,
  ];
  // Twice each, alternated: a shared machine's speed drifts during a run.
  const phases = [without, budgets, without, budgets];
  const tenants: string[] = [];
  try {
    for (const [name, limits] of phases) {
      const server = await startBenchServer(graph, {}, { ...config.limits, ...limits });
      const noisy = `bench-noisy-${randomUUID()}`;
      const quietTenant = `bench-quiet-${randomUUID()}`;
      tenants.push(noisy, quietTenant);
      const noisyKeys = Array.from({ length: KEYS }, () => generateApiKey());
      for (const [i, key] of noisyKeys.entries()) {
        await server.services.auth.ensureAdminKey(noisy, key, `noisy ${i}`);
      }
      const quietKey = generateApiKey();
      await server.services.auth.ensureAdminKey(quietTenant, quietKey, 'quiet');
      const inputs = Array.from({ length: 20 }, (_, i) => ({
        name: `Agent ${i}`,
        role: 'MASTER_OPERATOR',
      }));
      for (const key of [noisyKeys[0]!, quietKey]) {
        await ask(server.url, key, CREATE, { i: inputs });
      }
      const quiet = { url: server.url, keys: [quietKey], lanes: 1, pauseMs: 20 };
      const alone = await clients({ ...quiet, seconds: 3 });
      const [beside, noise] = await Promise.all([
        clients({ ...quiet, seconds: SECONDS }),
        clients({ url: server.url, keys: noisyKeys, lanes: LANES, seconds: SECONDS, pauseMs: 0 }),
      ]);
      const p = (times: number[]) =>
        `p50 ${ms(percentile(times, 50))} p99 ${ms(percentile(times, 99))}`;
      console.log(
        `${name}: quiet tenant alone ${p(alone.times)}; beside the noisy tenant ` +
          `${p(beside.times)} (${beside.times.length} requests); the noisy tenant got ` +
          `${noise.times.length} answers (${p(noise.times)}), ${noise.refused} refusals`,
      );
      await server.close();
    }
  } finally {
    for (const tenant of tenants) {
      await graph.write((tx) =>
        tx.run({ cypher: 'MATCH (n {tenantId: $tenant}) DETACH DELETE n', params: { tenant } }),
      );
      await graph.write((tx) =>
        tx.run({ cypher: 'MATCH (t:Tenant {id: $tenant}) DELETE t', params: { tenant } }),
      );
    }
    await graph.close();
  }
}

async function ask(url: string, key: string, query: string, variables?: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  if (body.errors) throw new Error(`${query.slice(0, 40)}: ${JSON.stringify(body.errors)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
