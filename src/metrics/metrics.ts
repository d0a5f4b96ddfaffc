/**
 * The platform's Prometheus metrics (issue 17), one registry per process: the API and each
 * worker serve it at /metrics (src/metrics/endpoint.ts). Every instrument is defined here, so
 * the names that dashboards and alert rules use (deploy/) are in one place.
 *
 * Labels are bounded: no ids, no tenant names. Values a user chooses (operation names,
 * capabilities, models) pass through `bounded`, which keeps the first few dozen it sees and
 * calls the rest `other`, so a client cannot grow the series without end.
 *
 * Counters are counted where the fact is final: after the transaction that records it commits
 * (a retried transaction would count twice), and once per model call record.
 */
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const PREFIX = 'agent_platform_';

/** Seconds buckets from 5 ms to 2 minutes: statements, requests, steps and model calls alike. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const counter = (name: string, help: string, labelNames: string[] = []) =>
  new client.Counter({ name: PREFIX + name, help, labelNames, registers: [registry] });

const histogram = (name: string, help: string, labelNames: string[] = []) =>
  new client.Histogram({
    name: PREFIX + name,
    help,
    labelNames,
    buckets: SECONDS,
    registers: [registry],
  });

/**
 * A gauge read when Prometheus scrapes: `read` sets it (and may be async). A read that fails
 * (Neo4j down) keeps the last value: a throw failed the whole scrape with a 500, so an outage
 * hid every other metric, the 503s and retries included.
 */
const gaugeOnScrape = (
  name: string,
  help: string,
  labelNames: string[],
  read: (g: client.Gauge) => void | Promise<void>,
) =>
  new client.Gauge({
    name: PREFIX + name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      try {
        await read(this);
      } catch {
        // The last value stands (see above).
      }
    },
  });

/**
 * A label for values from outside: the first `max` distinct ones as themselves (trimmed to
 * Prometheus-friendly characters), every later one as `other`.
 */
export function bounded(max: number): (value: string | null | undefined) => string {
  const seen = new Set<string>();
  return (value) => {
    const v = (value ?? '').replace(/[^\w.:/-]/g, '_').slice(0, 64) || 'none';
    if (seen.has(v)) return v;
    if (seen.size >= max) return 'other';
    seen.add(v);
    return v;
  };
}

/** Things a scrape asks for the current value of (gauges); each returns its unregister. */
type Source<T> = Set<T>;
const sum = async <T>(sources: Source<T>, read: (s: T) => number | Promise<number>) =>
  (await Promise.all([...sources].map(read))).reduce((a, b) => a + b, 0);

/** Steps waiting (READY) in the graph, counted by the processes that run an engine. */
export const readySources: Source<() => Promise<number>> = new Set();
/** Steps this process runs now (one per scheduler). */
export const runningSources: Source<() => number> = new Set();
/** This process's pub/subs, for live subscribers by topic. */
export const subscriberSources: Source<{
  topics: readonly string[];
  count(topic: string): number;
}> = new Set();
/** Neo4j sessions this process has open. */
export const sessionSources: Source<() => number> = new Set();
/** Write transactions waiting for a write slot (graph/write-slots.ts), one per Graph. */
export const writeWaitSources: Source<() => number> = new Set();

export function addSource<T>(sources: Source<T>, source: T): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

export const metrics = {
  graphql: {
    duration: histogram(
      'graphql_operation_duration_seconds',
      'GraphQL operations over HTTP, from request to response',
      ['operation', 'type'],
    ),
    errors: counter('graphql_errors_total', 'GraphQL errors sent, by extensions.code', ['code']),
    executions: counter(
      'graphql_executions_total',
      'GraphQL operations Apollo ran (/graphql, /mcp, /a2a): compiled (a query seen before) or not',
      ['execution'],
    ),
    requests: counter(
      'graphql_http_requests_total',
      'Requests to /graphql, by HTTP status, refused ones included (the error rate denominator)',
      ['status'],
    ),
  },
  neo4j: {
    statement: histogram(
      'neo4j_statement_duration_seconds',
      'Cypher statements, by the repository function that sent them',
      ['statement'],
    ),
    retries: counter('neo4j_retries_total', 'Transactions tried again', ['reason']),
    conflicts: counter(
      'neo4j_transaction_conflicts_total',
      'Transactions that met a deadlock or a lock conflict (then retried)',
    ),
    sessions: gaugeOnScrape(
      'neo4j_sessions_in_use',
      'Neo4j sessions open in this process (each holds a pooled connection or waits for one)',
      [],
      async (g) => g.set(await sum(sessionSources, (s) => s())),
    ),
    writeSlotWait: histogram(
      'neo4j_write_slot_wait_seconds',
      'How long write transactions waited for a write slot (0 when one was free)',
    ),
    writesWaiting: gaugeOnScrape(
      'neo4j_writes_waiting',
      'Write transactions waiting for a write slot (the rest of the pool is kept for reads)',
      [],
      async (g) => g.set(await sum(writeWaitSources, (s) => s())),
    ),
  },
  subscriptions: {
    sockets: new client.Gauge({
      name: PREFIX + 'ws_sockets_open',
      help: 'Authenticated graphql-ws sockets open',
      registers: [registry],
    }),
    active: gaugeOnScrape(
      'subscriptions_active',
      'Live subscribers by topic (GraphQL subscriptions and internal watchers)',
      ['topic'],
      (g) => {
        g.reset();
        for (const s of subscriberSources)
          for (const topic of s.topics) g.inc({ topic }, s.count(topic));
      },
    ),
    lag: histogram(
      'subscription_delivery_lag_seconds',
      'From an event being published to its result being sent on a socket',
      ['subscription'],
    ),
  },
  engine: {
    ready: gaugeOnScrape(
      'engine_ready_steps',
      'Steps waiting to be claimed (READY) in the tenants the engine of this process serves',
      [],
      async (g) => {
        // Schedulers of one process see the same queue (or parts of it): the largest count.
        const counts = await Promise.all([...readySources].map((s) => s()));
        if (counts.length > 0) g.set(Math.max(...counts));
      },
    ),
    running: gaugeOnScrape('engine_running_steps', 'Steps this process runs now', [], async (g) =>
      g.set(await sum(runningSources, (s) => s())),
    ),
    claims: counter('engine_claims_total', 'Steps claimed'),
    leaseExpiries: counter(
      'engine_lease_expiries_total',
      'Steps put back because their worker stopped renewing the lease',
    ),
    retries: counter('engine_retries_total', 'Failed attempts that will be tried again'),
    stepDuration: histogram(
      'engine_step_duration_seconds',
      'Step attempts from claim to recorded outcome',
      ['capability', 'outcome'],
    ),
    queueWait: histogram(
      'engine_queue_wait_seconds',
      'From a step becoming claimable (READY) to its claim',
    ),
  },
  models: {
    tokens: counter('model_tokens_total', 'Tokens of model calls', [
      'provider',
      'model',
      'purpose',
      'kind',
    ]),
    cost: counter('model_cost_usd_total', 'Cost of model calls in US dollars (priced models)', [
      'provider',
      'model',
      'purpose',
    ]),
    duration: histogram('model_call_duration_seconds', 'Model calls, first byte to last', [
      'provider',
      'model',
      'purpose',
    ]),
    errors: counter('model_errors_total', 'Model calls that failed, by class', [
      'provider',
      'model',
      'class',
    ]),
  },
  limits: {
    rateLimited: counter('rate_limited_total', 'Requests refused by a rate limit', ['scope']),
  },
};

/**
 * Known label values start at 0: a labelled counter never incremented has no series, so a query
 * over it finds no data instead of 0 and a rate alert over it could never fire.
 */
for (const code of [
  'INTERNAL_SERVER_ERROR',
  'SERVICE_UNAVAILABLE',
  'REQUEST_TIMEOUT',
  'UNKNOWN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
])
  metrics.graphql.errors.inc({ code }, 0);
for (const reason of ['connectivity', 'busy', 'transient'])
  metrics.neo4j.retries.inc({ reason }, 0);
for (const scope of ['address', 'key', 'tenant', 'tenant_in_flight', 'bad_keys', 'websocket'])
  metrics.limits.rateLimited.inc({ scope }, 0);
