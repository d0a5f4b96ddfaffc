import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { seedRuns } from './analytics-fixtures.js';
import { createPlan } from './engine-steps.js';
import { type TestServer } from './server.js';

/*
 * The history of the performance analytics suite (analytics.int.test.ts): two agents, a plan,
 * and runs with known end times, latencies, costs and evaluations, across buckets and around the
 * edges of the window 2025-03-01 to 2025-03-04.
 */

const CreateAgents = graphql(`
  mutation AnalyticsCreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

/** Seeds the history in the server's tenant; returns the agents' ids by name. */
export async function seedAnalyticsHistory(server: TestServer): Promise<Record<string, string>> {
  const agents: Record<string, string> = {};
  const created = await server.gql(CreateAgents, {
    inputs: [
      {
        name: 'Xavier',
        role: 'MASTER_OPERATOR',
        capabilities: [{ name: 'analysis' }, { name: 'writing' }],
      },
      { name: 'Yara', role: 'MASTER_OPERATOR', capabilities: [{ name: 'analysis' }] },
    ],
  });
  expect(created.errors).toBeUndefined();
  for (const a of created.data!.createAgents) agents[a.name] = a.id;
  const tasks = await createPlan(server, [
    { key: 'root', title: 'History' },
    { key: 'a', title: 'Analyse', parentKey: 'root', requiredCapabilities: ['analysis'] },
    { key: 'b', title: 'Write', parentKey: 'root', requiredCapabilities: ['writing'] },
    { key: 'c', title: 'Analyse more', parentKey: 'root', requiredCapabilities: ['analysis'] },
  ]);
  const X = agents.Xavier!;
  const Y = agents.Yara!;
  await seedRuns(server.graph, server.tenantId, [
    // Day 0 (March 1st).
    {
      taskId: tasks.a!,
      agentId: X,
      endedAt: '2025-03-01T10:00:00Z',
      status: 'SUCCEEDED',
      latencyMs: 100,
      costUsd: 0.1,
      evaluations: { JUDGE: 0.9 },
    },
    {
      // A person's rating outranks the judge's: effective 0.8, PASS.
      taskId: tasks.a!,
      agentId: X,
      endedAt: '2025-03-01T12:00:00Z',
      status: 'SUCCEEDED',
      latencyMs: 200,
      costUsd: 0.2,
      evaluations: { OBJECTIVE: 1, JUDGE: 0.5, PERSON: 0.8 },
    },
    {
      taskId: tasks.a!,
      agentId: X,
      endedAt: '2025-03-01T23:59:59.999Z',
      status: 'FAILED',
      latencyMs: 300,
      costUsd: 0.05,
      evaluations: { OBJECTIVE: 0.2 },
    },
    // Day 2 (March 3rd): one run without any evaluation, one PARTIAL.
    {
      taskId: tasks.b!,
      agentId: X,
      endedAt: '2025-03-03T01:00:00Z',
      status: 'SUCCEEDED',
      latencyMs: 400,
      costUsd: 0.3,
    },
    {
      taskId: tasks.b!,
      agentId: X,
      endedAt: '2025-03-03T02:00:00Z',
      status: 'FAILED',
      latencyMs: 500,
      evaluations: { OBJECTIVE: 0.6 },
    },
    // Outside the window: just before it, exactly at its end (excluded); and a released
    // attempt inside it (no outcome: no run of the figures, but its calls count in the cost).
    {
      taskId: tasks.a!,
      agentId: X,
      endedAt: '2025-02-28T23:59:59.999Z',
      status: 'SUCCEEDED',
      latencyMs: 10_000,
      costUsd: 5,
      evaluations: { JUDGE: 1 },
    },
    {
      taskId: tasks.a!,
      agentId: X,
      endedAt: '2025-03-04T00:00:00Z',
      status: 'SUCCEEDED',
      latencyMs: 10_000,
      costUsd: 5,
      evaluations: { JUDGE: 1 },
    },
    {
      taskId: tasks.a!,
      agentId: X,
      endedAt: '2025-03-01T11:00:00Z',
      status: 'RELEASED',
      latencyMs: 50,
      costUsd: 5,
    },
    // Yara, day 1 (March 2nd), on the other analysis task.
    {
      taskId: tasks.c!,
      agentId: Y,
      endedAt: '2025-03-02T06:00:00Z',
      status: 'SUCCEEDED',
      latencyMs: 1_000,
      costUsd: 0.4,
      evaluations: { OBJECTIVE: 0.3, PERSON: 1 },
    },
  ]);
  return agents;
}
