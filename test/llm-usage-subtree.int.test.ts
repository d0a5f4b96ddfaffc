import { statementsFor } from './utils/statements.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { graphql } from './generated/index.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

const Submit = graphql(`
  mutation SubtreeUsageSubmit($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

const SubtreeUsage = graphql(`
  query SubtreeUsage($id: ID!) {
    task(id: $id) {
      own: llmUsage {
        calls
        totalTokens
      }
      subtree: llmUsage(scope: SUBTREE) {
        calls
        promptTokens
        completionTokens
        totalTokens
        costUsd
      }
      subtasks {
        id
        subtree: llmUsage(scope: SUBTREE) {
          calls
        }
        own: llmUsage(scope: TASK) {
          calls
        }
      }
    }
  }
`);

/** How long the offline agents may take for the whole workflow on a loaded machine. */
const WORKFLOW_MS = 90_000;

describe("a task's model usage over its whole subtree", () => {
  let server: TestServer;
  let rootId: string;
  const otherTenant = `other-${randomUUID()}`;

  /** Every LLMCall of the tenant made for the root or any task below it, summed in Cypher. */
  const callsUnder = async (root: string) => {
    const [row] = await server.graph.read((tx) =>
      tx.run<{ calls: number; tokens: number; prompt: number; completion: number }>({
        cypher: `
          MATCH (t:Task {tenantId: $tenantId})-[:SUBTASK_OF*0..]->(:Task {tenantId: $tenantId, id: $root})
          MATCH (c:LLMCall {tenantId: $tenantId}) WHERE c.taskId = t.id
          RETURN count(c) AS calls, sum(c.totalTokens) AS tokens,
                 sum(c.promptTokens) AS prompt, sum(c.completionTokens) AS completion`,
        params: { tenantId: server.tenantId, root },
      }),
    );
    return row!;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const team = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(team.errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm, // the offline model
      logger: server.logger,
      pubsub: server.pubsub,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), { stepTimeoutMs: 30_000 });
    try {
      const submitted = await server.gql(Submit, {
        input: {
          title: 'Cargo bike brief',
          description: 'Research cargo bike sales in Europe. Then write a short brief.',
        },
      });
      expect(submitted.errors).toBeUndefined();
      rootId = submitted.data!.submitTask.id;
      const tasks = await waitForWorkflow(
        server,
        rootId,
        (all) =>
          all.find((t) => t.id === rootId)?.status === 'COMPLETED' ||
          all.some((t) => t.status === 'FAILED'),
        WORKFLOW_MS,
      );
      expect(tasks.find((t) => t.id === rootId)?.status).toBe('COMPLETED');
    } finally {
      await scheduler.stop();
    }
  }, WORKFLOW_MS + 30_000);
  afterAll(async () => {
    await server?.graph.write((tx) =>
      tx.run({
        cypher: 'MATCH (c:LLMCall {tenantId: $otherTenant}) DETACH DELETE c',
        params: { otherTenant },
      }),
    );
    await server?.stop();
  });

  it('equals the sum of every LLMCall under the submitted task, while TASK counts its own', async () => {
    const res = await server.gql(SubtreeUsage, { id: rootId });
    expect(res.errors).toBeUndefined();
    const task = res.data!.task!;
    const under = await callsUnder(rootId);
    expect(task.subtree).toMatchObject({
      calls: under.calls,
      totalTokens: under.tokens,
      promptTokens: under.prompt,
      completionTokens: under.completion,
    });
    // Planning is the root's own; the steps' calls are only in the roll-up.
    expect(task.subtasks.length).toBeGreaterThanOrEqual(2);
    const steps = task.subtasks.reduce((sum, s) => sum + s.subtree.calls, 0);
    expect(steps).toBeGreaterThan(0);
    expect(task.subtree.calls).toBe(task.own.calls + steps);
    for (const step of task.subtasks) expect(step.subtree.calls).toBe(step.own.calls);
  });

  it('counts calls at any depth and of this tenant only', async () => {
    const before = (await server.gql(SubtreeUsage, { id: rootId })).data!.task!.subtree;
    // A sub-subtask two levels down with one call, and a call of another tenant naming the root.
    const [step] = (await server.gql(SubtreeUsage, { id: rootId })).data!.task!.subtasks;
    const deepId = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (step:Task {tenantId: $tenantId, id: $stepId})
          CREATE (deep:Task {id: $deepId, tenantId: $tenantId, title: 'deeper', status: 'COMPLETED',
                             priority: 'MEDIUM', attempts: 0, createdAt: datetime(), updatedAt: datetime()})
                   -[:SUBTASK_OF]->(step)
          CREATE (:LLMCall {id: randomUUID(), tenantId: $tenantId, taskId: $deepId, provider: 'offline',
                            model: 'm', purpose: 'execution', promptTokens: 7, completionTokens: 3,
                            totalTokens: 10, costUsd: 0.25, createdAt: datetime()})
          CREATE (:LLMCall {id: randomUUID(), tenantId: $otherTenant, taskId: $rootId, provider: 'offline',
                            model: 'm', purpose: 'execution', promptTokens: 1000, completionTokens: 1000,
                            totalTokens: 2000, costUsd: 9, createdAt: datetime()})`,
        params: {
          tenantId: server.tenantId,
          otherTenant,
          stepId: step!.id,
          deepId,
          rootId,
        },
      }),
    );
    const after = (await server.gql(SubtreeUsage, { id: rootId })).data!.task!.subtree;
    expect(after.calls).toBe(before.calls + 1);
    expect(after.totalTokens).toBe(before.totalTokens + 10);
    expect(after.costUsd).toBeCloseTo(before.costUsd + 0.25, 9);
  });

  it('loads the roll-up of every listed task in one statement', async () => {
    const statements = (selection: string) =>
      statementsFor(server, async () => {
        const res = await server.gql(
          `query($id: ID!) { task(id: $id) { subtasks { ${selection} } } }`,
          { id: rootId },
        );
        expect(res.errors).toBeUndefined();
      });
    const plain = await statements('id');
    expect(await statements('id llmUsage(scope: SUBTREE) { calls }')).toBe(plain + 1);
  });
});
