import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scheduler } from '../src/engine/scheduler.js';
import { graphql } from './generated/index.js';
import { allFinished, startOfflineAgents, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';

const Submit = graphql(`
  mutation UsageTrendSubmit($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

const Trend = graphql(`
  query UsageTrend(
    $by: LLMUsageGroup!
    $bucket: PerformanceBucket!
    $window: PerformanceWindowInput
  ) {
    llmUsageTrend(by: $by, bucket: $bucket, window: $window) {
      by
      bucket
      since
      until
      points {
        bucketStart
        key
        label
        calls
        promptTokens
        completionTokens
        totalTokens
        costUsd
      }
    }
    llmUsage {
      calls
      promptTokens
      completionTokens
      totalTokens
      costUsd
    }
  }
`);

const AgentsPerformance = graphql(`
  query AgentsPerformance($withPerformance: Boolean!) {
    agents(first: 10) {
      nodes {
        id
        name
        performance(bucket: HOUR) @include(if: $withPerformance) {
          runs
          successes
          costUsd
          trend {
            runs
          }
        }
      }
    }
  }
`);

const OnePerformance = graphql(`
  query OneAgentPerformance($agentId: ID!) {
    agentPerformance(agentId: $agentId, bucket: HOUR) {
      runs
      successes
      costUsd
      trend {
        runs
      }
    }
  }
`);

const HOUR = 3_600_000;

describe("the organisation's figures over time: llmUsageTrend and Agent.performance", () => {
  let server: TestServer;
  let scheduler: Scheduler;
  let started: number;

  beforeAll(async () => {
    server = await startTestServer();
    const team = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(team.errors).toBeUndefined();
    scheduler = startOfflineAgents(server);
    started = Date.now();
    const submitted = await server.gql(Submit, {
      input: { title: 'Research the market', description: 'Research the market briefly.' },
    });
    expect(submitted.errors).toBeUndefined();
    await waitForWorkflow(server, submitted.data!.submitTask.id, allFinished);
    await scheduler.stop();
  }, 120_000);

  afterAll(async () => {
    await scheduler?.stop();
    await server?.stop();
  });

  const trend = async (by: 'MODEL' | 'AGENT', window?: { since: string; until: string }) => {
    const res = await server.gql(Trend, { by, bucket: 'HOUR', window });
    expect(res.errors).toBeUndefined();
    return res.data!;
  };

  const sum = (points: { calls: number; totalTokens: number; costUsd: number }[]) => ({
    calls: points.reduce((n, p) => n + p.calls, 0),
    totalTokens: points.reduce((n, p) => n + p.totalTokens, 0),
  });

  it('adds up, by model and by agent, to every call of the tenant, in the buckets they were made', async () => {
    for (const by of ['MODEL', 'AGENT'] as const) {
      const { llmUsageTrend: t, llmUsage } = await trend(by);
      expect(t.by).toBe(by);
      expect(llmUsage.calls).toBeGreaterThan(0);
      expect(sum(t.points)).toEqual({ calls: llmUsage.calls, totalTokens: llmUsage.totalTokens });
      const since = new Date(String(t.since)).getTime();
      for (const p of t.points) {
        const start = new Date(String(p.bucketStart)).getTime();
        expect((start - since) % HOUR).toBe(0);
        // The calls were made since this suite started: their bucket holds that moment or later.
        expect(start + HOUR).toBeGreaterThan(started);
        expect(p.label).not.toBe('');
      }
    }
  });

  it("names the models the records name, and each agent by its name, summing each one's calls", async () => {
    const byModel = (await trend('MODEL')).llmUsageTrend.points;
    const models = await server.graph.read((tx) =>
      tx.run<{ model: string; calls: number }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId})
                 RETURN coalesce(c.responseModel, c.model) AS model, count(c) AS calls`,
        params: { tenantId: server.tenantId },
      }),
    );
    const callsOf = (points: typeof byModel, key: string | null) =>
      points.filter((p) => p.key === key).reduce((n, p) => n + p.calls, 0);
    for (const m of models) expect(callsOf(byModel, m.model), m.model).toBe(Number(m.calls));

    const byAgent = (await trend('AGENT')).llmUsageTrend.points;
    const agents = await server.gql<
      { agents: { nodes: { id: string; name: string; llmUsage: { calls: number } }[] } },
      never
    >(`{ agents(first: 10) { nodes { id name llmUsage { calls } } } }`);
    for (const a of agents.data!.agents.nodes) {
      expect(callsOf(byAgent, a.id), a.name).toBe(a.llmUsage.calls);
      for (const p of byAgent.filter((x) => x.key === a.id)) expect(p.label).toBe(a.name);
    }
  });

  it('leaves out calls outside the window, and refuses a window that ends before it starts', async () => {
    const past = {
      since: new Date(started - 3 * HOUR).toISOString(),
      until: new Date(started - HOUR).toISOString(),
    };
    expect((await trend('MODEL', past)).llmUsageTrend.points).toEqual([]);
    const res = await server.gql(Trend, {
      by: 'AGENT',
      bucket: 'HOUR',
      window: { since: past.until, until: past.since },
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/since must be before window\.until/);
  });

  it('gives every agent of a page its performance (Agent.performance) in one statement, as agentPerformance does', async () => {
    const page = (withPerformance: boolean) => server.gql(AgentsPerformance, { withPerformance });
    const res = await page(true);
    expect(res.errors).toBeUndefined();
    const agents = res.data!.agents.nodes;
    expect(agents.reduce((n, a) => n + a.performance!.runs, 0)).toBeGreaterThan(0);
    for (const a of agents) {
      const one = await server.gql(OnePerformance, { agentId: a.id });
      expect(one.errors).toBeUndefined();
      expect(a.performance, a.name).toEqual(one.data!.agentPerformance);
    }
    const without = await statementsFor(server, () => page(false));
    const withIt = await statementsFor(server, () => page(true));
    expect(withIt - without).toBe(1);
  });
});
