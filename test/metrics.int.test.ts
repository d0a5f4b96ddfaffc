import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './generated/index.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { declaredNames, parseExposition, total, type Sample } from './utils/prom-text.js';
import { NO_PROMETHEUS, prometheusBinary, startPrometheus } from './utils/prometheus.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';
import { metricNamesInDeploy } from './utils/deploy-metrics.js';

const Submit = graphql(`
  mutation MetricsSubmit($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

const Watch = graphql(`
  subscription MetricsWatch {
    taskUpdated {
      task {
        id
        status
      }
    }
  }
`);

const WORKFLOW_MS = 60_000;
const TOKEN = 'a-metrics-token-for-the-suite';
const P = 'agent_platform_';

const scrape = async (url: string, token: string | null = TOKEN) => {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
};

/** The same figure from the graph, over this suite's tenant. */
const graphCount = async (server: TestServer, cypher: string) => {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({ cypher, params: { tenantId: server.tenantId } }),
  );
  return row!.n;
};

/**
 * The graph's figure once it equals `expected`, or its last reading after 10 s: model calls are
 * counted when made and written in the background, so the graph may be a moment behind.
 */
const graphReaches = async (server: TestServer, cypher: string, expected: number) => {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const n = await graphCount(server, cypher);
    if (n === expected || performance.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
};

// Metrics are per process; vitest runs each file in a process of its own, and this file's one
// server is the only thing in it that runs steps or calls models, so the figures are this
// workflow's.
describe('/metrics after a workflow', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let samples: Sample[];
  let text: string;
  let rootId: string;
  /** The most steps the gauge showed running, scraped while the workflow ran. */
  let runningSeen = 0;

  beforeAll(async () => {
    server = await startTestServer(
      undefined,
      {},
      undefined,
      {},
      {
        metrics: { enabled: true, token: TOKEN, port: null, host: '127.0.0.1' },
      },
    );
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    // The offline model priced (it is free by default), so the cost metric has a value to check.
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({
        LLM_PRICES: JSON.stringify({ 'offline/deterministic-v1': { input: 3, output: 15 } }),
      }).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), { stepTimeoutMs: 30_000 });
    const events = await subscribe(server, Watch);
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { text } = await scrape(server.metricsUrl!);
        runningSeen = Math.max(
          runningSeen,
          total(parseExposition(text), `${P}engine_running_steps`),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const submitted = await server.gql(Submit, {
        input: {
          title: 'Bike brief',
          description: 'Research the market for electric bikes. Then write a short brief.',
        },
      });
      expect(submitted.errors).toBeUndefined();
      rootId = submitted.data!.submitTask.id;
      const tasks = await waitForWorkflow(
        server,
        rootId,
        (all) => all.find((t) => t.id === rootId)?.status === 'COMPLETED',
        WORKFLOW_MS,
      );
      expect(tasks.filter((t) => t.status !== 'COMPLETED')).toEqual([]);
      await events.waitForNext();
      watching = false;
      await watcher;
      // The last attempt leaves the scheduler's hands just after its outcome commits.
      while (scheduler.running > 0) await new Promise((r) => setTimeout(r, 20));
      const scraped = await scrape(server.metricsUrl!);
      expect(scraped.status).toBe(200);
      text = scraped.text;
      samples = parseExposition(text);
    } finally {
      watching = false;
      await scheduler.stop();
      await events.close();
    }
  });
  afterAll(() => server?.stop());

  it('counts the tokens and cost of exactly the LLMCall records in the graph', async () => {
    const counted = total(samples, `${P}model_tokens_total`);
    expect(counted).toBeGreaterThan(0);
    const calls = total(samples, `${P}model_call_duration_seconds_count`);
    const q = 'MATCH (c:LLMCall {tenantId: $tenantId})';
    expect(await graphReaches(server, `${q} RETURN count(c) AS n`, calls)).toBe(calls);
    expect(
      await graphReaches(
        server,
        `${q} RETURN sum(c.promptTokens + c.completionTokens) AS n`,
        counted,
      ),
    ).toBe(counted);
    const output = total(samples, `${P}model_tokens_total`, {
      provider: 'offline',
      kind: 'output',
    });
    expect(await graphCount(server, `${q} RETURN sum(c.completionTokens) AS n`)).toBe(output);
    const cost = total(samples, `${P}model_cost_usd_total`);
    expect(cost).toBeGreaterThan(0);
    expect(await graphCount(server, `${q} RETURN sum(c.costUsd) AS n`)).toBeCloseTo(cost, 9);
  });

  it('counts claims, and step ends by outcome as the runs in the graph', async () => {
    const runs = await graphCount(
      server,
      'MATCH (r:Run {tenantId: $tenantId}) RETURN count(r) AS n',
    );
    const succeeded = await graphCount(
      server,
      "MATCH (r:Run {tenantId: $tenantId, status: 'SUCCEEDED'}) RETURN count(r) AS n",
    );
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(total(samples, `${P}engine_claims_total`)).toBe(runs);
    expect(total(samples, `${P}engine_queue_wait_seconds_count`)).toBe(runs);
    expect(total(samples, `${P}engine_step_duration_seconds_count`, { outcome: 'succeeded' })).toBe(
      succeeded,
    );
    expect(
      total(samples, `${P}engine_step_duration_seconds_count`, { capability: 'research' }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(samples, `${P}engine_ready_steps`)).toBe(0);
    expect(total(samples, `${P}engine_running_steps`)).toBe(0);
    expect(runningSeen).toBeGreaterThanOrEqual(1);
  });

  it('times GraphQL operations by name, and statements by repository function', () => {
    expect(
      total(samples, `${P}graphql_operation_duration_seconds_count`, {
        operation: 'MetricsSubmit',
        type: 'mutation',
      }),
    ).toBe(1);
    const claims = samples.filter(
      (s) =>
        s.name === `${P}neo4j_statement_duration_seconds_count` &&
        s.labels.statement === 'claim.repository.claimReadyTasks',
    );
    expect(claims[0]?.value).toBeGreaterThan(0);
    // No statement is left unnamed: each comes from a repository function in graph/.
    const unnamed = samples.filter(
      (s) =>
        s.name === `${P}neo4j_statement_duration_seconds_count` &&
        !s.labels.statement?.includes('.'),
    );
    expect(unnamed.map((s) => s.labels.statement)).toEqual([]);
  });

  it('counts every GraphQL error it sends by code, refusals before any operation included', async () => {
    const errorsBy = async () => {
      const now = parseExposition((await scrape(server.metricsUrl!)).text);
      return (code: string) => total(now, `${P}graphql_errors_total`, { code });
    };
    const requestsBy = async () => {
      const now = parseExposition((await scrape(server.metricsUrl!)).text);
      return (status: string) => total(now, `${P}graphql_http_requests_total`, { status });
    };
    const requestsBefore = await requestsBy();
    const before = await errorsBy();
    const post = (body: string, key: string | null = server.adminKey) =>
      fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body,
      });
    const statuses = [
      (await post(JSON.stringify({ query: '{ viewer { keyId } }' }), 'not-a-key')).status,
      (await post('{"query": ')).status,
      (await post(JSON.stringify({ variables: {} }))).status,
      (await post(JSON.stringify({ query: 'x'.repeat(11_000_000) }))).status,
      (await post(JSON.stringify({ query: '{ task(id: "no-such-task") { id } }' }))).status,
    ];
    expect(statuses).toEqual([401, 400, 400, 413, 200]);
    const after = await errorsBy();
    for (const [code, n] of [
      ['UNAUTHENTICATED', 1],
      ['BAD_REQUEST', 2],
      ['PAYLOAD_TOO_LARGE', 1],
      ['NOT_FOUND', 1],
    ] as const) {
      expect(after(code) - before(code), code).toBe(n);
    }
    // Every request is counted by status: the error rate's denominator includes the refused.
    const requestsAfter = await requestsBy();
    for (const [status, n] of [
      ['401', 1],
      ['400', 2],
      ['413', 1],
    ] as const) {
      expect(requestsAfter(status) - requestsBefore(status), status).toBe(n);
    }
    // The 200s: the NOT_FOUND query, and the scrapes' own requests are not GraphQL.
    expect(requestsAfter('200') - requestsBefore('200')).toBe(1);

    // A document that never parses is timed as `unresolved`: its name takes no label slot.
    const junk = await post(JSON.stringify({ query: '{ nope', operationName: 'JunkName' }));
    expect(junk.status).toBe(400);
    const timed = parseExposition((await scrape(server.metricsUrl!)).text).filter(
      (s) => s.name === `${P}graphql_operation_duration_seconds_count`,
    );
    expect(timed.filter((s) => s.labels.operation === 'JunkName')).toEqual([]);
    expect(total(timed, timed[0]!.name, { operation: 'unresolved' })).toBeGreaterThan(0);
  });

  it('shows the open socket, its subscription and the delivery lag of its events', () => {
    expect(total(samples, `${P}ws_sockets_open`)).toBe(1);
    expect(
      total(samples, `${P}subscriptions_active`, { topic: 'TASK_UPDATED' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      total(samples, `${P}subscription_delivery_lag_seconds_count`, {
        subscription: 'taskUpdated',
      }),
    ).toBeGreaterThan(0);
  });

  it('carries no ids and no tenant names in any label', () => {
    const values = samples.flatMap((s) => Object.values(s.labels));
    const ids = [server.tenantId, rootId];
    expect(values.filter((v) => ids.some((id) => v.includes(id)))).toEqual([]);
    expect(values.filter((v) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(v))).toEqual([]);
  });

  it('exposes every metric the dashboard and the alert rules name, each with a series', () => {
    const names = declaredNames(text);
    const missing = metricNamesInDeploy().filter((n) => !names.has(n));
    expect(missing).toEqual([]);
    // Declared is not enough: a labelled metric never incremented has no series, and a query
    // over it shows "no data" instead of 0 (a rate alert over it could never fire).
    const sampled = new Set(samples.map((s) => s.name.replace(/_(?:bucket|sum|count)$/, '')));
    const unsampled = metricNamesInDeploy().filter(
      (n) => !sampled.has(n) && !sampled.has(n.replace(/_(?:bucket|sum|count)$/, '')),
    );
    expect(unsampled).toEqual([]);
  });

  it('refuses a scrape without the token, and with a wrong one', async () => {
    expect((await scrape(server.metricsUrl!, null)).status).toBe(401);
    expect((await scrape(server.metricsUrl!, 'x'.repeat(TOKEN.length))).status).toBe(401);
  });

  const ci = !!process.env.CI;
  it.skipIf(!prometheusBinary() && !ci)(
    `is scraped by a real Prometheus${prometheusBinary() ? '' : ` (${NO_PROMETHEUS})`}`,
    async () => {
      const prometheus = await startPrometheus(server.metricsUrl!, TOKEN);
      try {
        const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean) => {
          const deadline = performance.now() + 30_000;
          for (;;) {
            const v = await read();
            if (ok(v) || performance.now() > deadline) return v;
            await new Promise((r) => setTimeout(r, 500));
          }
        };
        const targets = await until(
          () => prometheus.targets(),
          (t) => t[0]?.health === 'up',
        );
        expect(targets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
        const claims = await until(
          () => prometheus.query(`sum(${P}engine_claims_total)`),
          (v) => v.length > 0,
        );
        expect(claims[0]?.value).toBe(total(samples, `${P}engine_claims_total`));
        const tokens = await prometheus.query(`sum by (kind) (${P}model_tokens_total)`);
        const byKind = Object.fromEntries(tokens.map((t) => [t.labels.kind, t.value]));
        expect(byKind.output).toBe(total(samples, `${P}model_tokens_total`, { kind: 'output' }));
        // Every metric the dashboard and the rules name is stored: a series, not a declaration.
        const stored = new Set(
          (
            await prometheus.query(
              'count by (__name__) ({__name__=~"(agent_platform|process|nodejs)_.+"})',
            )
          ).map((r) => r.labels.__name__!.replace(/_(?:bucket|sum|count)$/, '')),
        );
        expect(
          metricNamesInDeploy().filter((n) => !stored.has(n.replace(/_(?:bucket|sum|count)$/, ''))),
        ).toEqual([]);
        const cost = await prometheus.query(`sum(${P}model_cost_usd_total)`);
        expect(cost[0]?.value).toBeCloseTo(total(samples, `${P}model_cost_usd_total`), 9);
        const p95 = await prometheus.query(
          `histogram_quantile(0.95, sum by (le) (${P}engine_step_duration_seconds_bucket))`,
        );
        expect(p95[0]?.value).toBeGreaterThan(0);
      } finally {
        await prometheus.stop();
      }
    },
  );
});

describe('where /metrics is served', () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.stop())));
  const start = async (options: Parameters<typeof startTestServer>[4]) => {
    const s = await startTestServer(undefined, {}, undefined, {}, options);
    servers.push(s);
    return s;
  };
  const apiMetrics = (s: TestServer) => s.url.replace(/\/graphql$/, '/metrics');

  it('on the API port without a token by default (development)', async () => {
    const s = await start({});
    expect(s.metricsUrl).toBe(apiMetrics(s));
    const { status, text } = await scrape(apiMetrics(s), null);
    expect(status).toBe(200);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('nowhere in production without a token or a port of its own', async () => {
    const s = await start({
      production: true,
      metrics: { enabled: true, token: null, port: null, host: '127.0.0.1' },
    });
    expect(s.metricsUrl).toBeNull();
    expect((await scrape(apiMetrics(s), null)).status).toBe(404);
  });

  it('on METRICS_PORT only, when one is given', async () => {
    const s = await start({ metrics: { enabled: true, token: null, port: 0, host: '127.0.0.1' } });
    expect(s.metricsUrl).not.toBe(apiMetrics(s));
    expect((await scrape(s.metricsUrl!, null)).status).toBe(200);
    expect((await scrape(apiMetrics(s), null)).status).toBe(404);
  });

  it('nowhere with METRICS=off', async () => {
    const s = await start({ metrics: { enabled: false, token: null, port: 0, host: '127.0.0.1' } });
    expect(s.metricsUrl).toBeNull();
    expect((await scrape(apiMetrics(s), null)).status).toBe(404);
  });
});
