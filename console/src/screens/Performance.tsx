import { useEffect, useMemo, useState } from 'react';
import { graphql } from '../gql';
import type { PerformanceBucket, PerformanceFiguresFragment as Perf } from '../gql/graphql';
import { useQuery } from '../hooks';
import { usePagedQuery } from '../paged';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { ShowMore } from '../components/ShowMore';
import { BucketTable, PerfTable, StatusTable, money, num } from './PerformanceParts';
import { UsageTrendTable } from './UsageTrend';

const BUCKET_MS: Record<PerformanceBucket, number> = {
  HOUR: 3_600_000,
  DAY: 86_400_000,
  WEEK: 604_800_000,
};

const OverviewQuery = graphql(`
  query PerformanceOverview {
    llmUsage {
      calls
      promptTokens
      cachedPromptTokens
      completionTokens
      totalTokens
      costUsd
      unpricedCalls
    }
    taskCounts {
      status
      count
    }
  }
`);

// One set of figures for an agent and for a capability.
graphql(`
  fragment PerformanceFigures on Performance {
    runs
    successes
    successRate
    meanScore
    costUsd
    costPerSuccessUsd
    latencyP50Ms
    trend {
      start
      runs
      successes
      meanScore
      costUsd
    }
  }
`);

// Every call of the tenant over the period, per bucket, by model and by agent.
graphql(`
  fragment PerformanceUsageTrend on LLMUsageTrend {
    since
    points {
      bucketStart
      label
      calls
      totalTokens
      costUsd
    }
  }
`);

const UsageTrendQuery = graphql(`
  query PerformanceUsageTrend($bucket: PerformanceBucket!, $window: PerformanceWindowInput) {
    byModel: llmUsageTrend(by: MODEL, bucket: $bucket, window: $window) {
      ...PerformanceUsageTrend
    }
    byAgent: llmUsageTrend(by: AGENT, bucket: $bucket, window: $window) {
      ...PerformanceUsageTrend
    }
  }
`);

// A page of agents with their figures in one request (Agent.performance: one statement for
// the page); "Show more agents" adds the next, by name.
const AgentsQuery = graphql(`
  query PerformanceAgents(
    $bucket: PerformanceBucket!
    $window: PerformanceWindowInput
    $after: String
  ) {
    agents(first: 100, after: $after, orderBy: NAME_ASC) {
      nodes {
        id
        name
        model
        capabilities {
          name
          runs
        }
        llmUsage {
          calls
          totalTokens
          costUsd
        }
        performance(bucket: $bucket, window: $window) {
          ...PerformanceFigures
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const CapabilityQuery = graphql(`
  query PerformanceCapability(
    $name: String!
    $bucket: PerformanceBucket!
    $window: PerformanceWindowInput
  ) {
    capabilityPerformance(name: $name, bucket: $bucket, window: $window) {
      ...PerformanceFigures
    }
  }
`);

const PERIODS: { label: string; bucket: PerformanceBucket; hours: number }[] = [
  { label: 'Last 24 hours, by hour', bucket: 'HOUR', hours: 24 },
  { label: 'Last 7 days, by day', bucket: 'DAY', hours: 24 * 7 },
  { label: 'Last 12 weeks, by week', bucket: 'WEEK', hours: 24 * 7 * 12 },
];
/** Each capability is one request: the 20 most used keep a refresh near 20 requests. */
const MAX_ROWS = 20;

function useMany(keys: string[], load: (key: string) => Promise<Perf>, stamp: string) {
  const [state, setState] = useState<{
    results: Map<string, Perf>;
    errors: Map<string, unknown>;
    loading: boolean;
  }>({ results: new Map(), errors: new Map(), loading: false });
  useEffect(() => {
    let live = true;
    const queue = [...keys];
    const results = new Map<string, Perf>();
    const errors = new Map<string, unknown>();
    const publish = (loading: boolean) =>
      live && setState({ results: new Map(results), errors: new Map(errors), loading });
    publish(keys.length > 0);
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        try {
          results.set(key, await load(key));
        } catch (err) {
          errors.set(key, err);
        }
        publish(true);
      }
    };
    void Promise.all([worker(), worker(), worker()]).then(() => publish(false));
    return () => {
      live = false;
    };
    // Reloads only when the stamp changes.
  }, [stamp]);
  return state;
}

export function Performance() {
  const { api } = useSession();
  const overview = useQuery(OverviewQuery);
  const [periodIndex, setPeriodIndex] = useState(1);
  const [asked, setAsked] = useState(() => new Date());
  const period = PERIODS[periodIndex] ?? PERIODS[1]!;
  const span = useMemo(
    () => ({
      since: new Date(asked.getTime() - period.hours * 3_600_000).toISOString(),
      until: asked.toISOString(),
    }),
    [asked, period],
  );

  // Another period starts the list again; Refresh keeps its rows until the new figures come.
  const figures = usePagedQuery(
    AgentsQuery,
    { bucket: period.bucket, window: span },
    (d) => d.agents,
    period.bucket,
  );
  const agents = figures.rows;
  const agentPerf = useMemo(() => {
    const results = new Map<string, Perf>();
    for (const a of agents) results.set(a.id, a.performance);
    return { results, errors: new Map<string, unknown>() };
  }, [agents]);
  const busiest = [...agents]
    .map((a) => ({ ...a, runs: agentPerf.results.get(a.id)?.runs ?? 0 }))
    .sort(
      (a, b) =>
        b.runs - a.runs || b.llmUsage.calls - a.llmUsage.calls || a.name.localeCompare(b.name),
    );
  const capRuns = new Map<string, number>();
  for (const a of agents)
    for (const c of a.capabilities) capRuns.set(c.name, (capRuns.get(c.name) ?? 0) + c.runs);
  const allCaps = [...capRuns.keys()];
  const caps = allCaps
    .sort((a, b) => (capRuns.get(b) ?? 0) - (capRuns.get(a) ?? 0) || a.localeCompare(b))
    .slice(0, MAX_ROWS);

  const stamp = JSON.stringify([span, period.bucket]);
  const usageTrend = useQuery(UsageTrendQuery, { bucket: period.bucket, window: span });
  const bucketMs = BUCKET_MS[period.bucket];
  const bucketCount = Math.ceil((period.hours * 3_600_000) / bucketMs);
  // Cost per bucket over every call of the tenant (agents' or not).
  const costPerBucket = useMemo(() => {
    const trend = usageTrend.data?.byModel;
    if (!trend) return [];
    const since = new Date(String(trend.since)).getTime();
    const out = Array.from({ length: bucketCount }, (_, i) => ({
      start: new Date(since + i * bucketMs).toISOString(),
      costUsd: 0,
      tokens: 0,
    }));
    for (const p of trend.points) {
      const b = out[Math.round((new Date(String(p.bucketStart)).getTime() - since) / bucketMs)];
      if (!b) continue;
      b.costUsd += p.costUsd;
      b.tokens += p.totalTokens;
    }
    return out;
  }, [usageTrend.data, bucketCount, bucketMs]);
  const capPerf = useMany(
    caps,
    async (name) =>
      (await api.request(CapabilityQuery, { name, bucket: period.bucket, window: span }))
        .capabilityPerformance,
    stamp + caps.join(),
  );

  // Per bucket, across the agents shown: runs ended (the engine's throughput).
  const buckets = useMemo(() => {
    const out: { start: unknown; runs: number; successes: number }[] = [];
    for (const p of agentPerf.results.values())
      p.trend.forEach((t, i) => {
        const b = (out[i] ??= { start: t.start, runs: 0, successes: 0 });
        b.runs += t.runs;
        b.successes += t.successes;
      });
    return out;
  }, [agentPerf.results]);

  const loading = overview.loading || usageTrend.loading || figures.loading || capPerf.loading;
  const usage = overview.data?.llmUsage;
  const capped = figures.hasMore;

  return (
    <>
      <h1>Performance</h1>
      <div className="row">
        <div>
          <label htmlFor="performance-period">Period</label>
          <select
            id="performance-period"
            value={periodIndex}
            onChange={(e) => {
              setPeriodIndex(Number(e.target.value));
              setAsked(new Date());
            }}
          >
            {PERIODS.map((p, i) => (
              <option key={p.bucket} value={i}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          style={{ alignSelf: 'flex-end' }}
          disabled={loading}
          onClick={() => {
            overview.reload();
            setAsked(new Date());
            // A new window reloads the trend and the figures by themselves.
          }}
        >
          Refresh
        </button>
        <p className="muted" style={{ alignSelf: 'flex-end' }} aria-live="polite">
          {loading ? 'Loading…' : `As of ${asked.toLocaleString()}`}
        </p>
      </div>
      {overview.error !== undefined && <ErrorNote error={overview.error} />}

      <section className="panel">
        <h2>Tokens and cost</h2>
        {usage && (
          <>
            <p>
              {num(usage.calls)} model calls · {num(usage.totalTokens)} tokens (
              {num(usage.promptTokens)} prompt, of which {num(usage.cachedPromptTokens)} cached;{' '}
              {num(usage.completionTokens)} completion) · <strong>{money(usage.costUsd)}</strong> in
              all
            </p>
            {usage.unpricedCalls > 0 && (
              <p className="muted">
                {num(usage.unpricedCalls)} calls went to models the price table does not know: they
                count $0. Add them to LLM_PRICES.
              </p>
            )}
          </>
        )}
        {usageTrend.error !== undefined && <ErrorNote error={usageTrend.error} />}
        {usageTrend.data && (
          <>
            <UsageTrendTable
              caption={`By model, ${period.label.toLowerCase()}`}
              what="Model"
              points={usageTrend.data.byModel.points}
              since={usageTrend.data.byModel.since}
              bucket={period.bucket}
              bucketMs={bucketMs}
              count={bucketCount}
            />
            <UsageTrendTable
              caption={`By agent, ${period.label.toLowerCase()}`}
              what="Agent"
              points={usageTrend.data.byAgent.points}
              since={usageTrend.data.byAgent.since}
              bucket={period.bucket}
              bucketMs={bucketMs}
              count={bucketCount}
            />
          </>
        )}
        <h3>Cost over time</h3>
        <BucketTable
          caption="Cost of every model call per bucket"
          bucket={period.bucket}
          rows={costPerBucket.map((b) => ({
            start: b.start,
            value: b.costUsd,
            text: `${money(b.costUsd)} · ${num(b.tokens)} tokens`,
          }))}
        />
      </section>

      <section className="panel" aria-labelledby="performance-agents">
        <h2 id="performance-agents">
          Agents{figures.showing ? ` (${agents.length}${capped ? '+' : ''})` : ''}
        </h2>
        {capped && (
          <p className="muted">The first {agents.length} agents by name, busiest first.</p>
        )}
        {figures.error !== undefined && <ErrorNote error={figures.error} />}
        {figures.moreError !== undefined && <ErrorNote error={figures.moreError} />}
        {figures.loading && !figures.showing && <p className="muted">Loading…</p>}
        {figures.showing && (
          <PerfTable
            what="Agent"
            rows={busiest.map((a) => ({ key: a.id, name: a.name }))}
            state={agentPerf}
            bucket={period.bucket}
          />
        )}
        <ShowMore list={figures} what="agents" />
      </section>

      <section className="panel">
        <h2>Capabilities</h2>
        {allCaps.length > MAX_ROWS && (
          <p className="muted">
            The {MAX_ROWS} most used of {allCaps.length} capabilities.
          </p>
        )}
        <PerfTable
          what="Capability"
          rows={caps.map((c) => ({ key: c, name: c }))}
          state={capPerf}
          bucket={period.bucket}
        />
      </section>

      <section className="panel">
        <h2>Engine</h2>
        <h3>Tasks by status</h3>
        {overview.data && <StatusTable counts={overview.data.taskCounts} />}
        <h3>Throughput</h3>
        <BucketTable
          caption={`Runs that ended per bucket (of them passed), across the agents above${capped ? ` (the first ${agents.length} by name)` : ''}`}
          bucket={period.bucket}
          rows={buckets.map((b) => ({
            start: b.start,
            value: b.runs,
            text: `${num(b.runs)} (${num(b.successes)} passed)`,
          }))}
        />
      </section>
    </>
  );
}
