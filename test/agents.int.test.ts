import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { graphql } from './generated/index.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const Submit = graphql(`
  mutation SubmitBrief($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
      status
      orchestrated
    }
  }
`);

const Watch = graphql(`
  subscription WatchAgents {
    taskUpdated {
      change
      task {
        id
        key
        status
      }
    }
  }
`);

const Tokens = graphql(`
  subscription WatchStepTokens {
    stepTokens {
      taskId
      purpose
      token
    }
  }
`);

/** How long the offline agents may take for the whole workflow on a loaded machine. */
const WORKFLOW_MS = 60_000;

const count = async (server: TestServer, cypher: string, params: Record<string, unknown> = {}) => {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );
  return row!.n;
};

// The workflow may take WORKFLOW_MS, far past vitest's 30 s default.
describe('the agents, on the offline model', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
  });
  afterAll(() => server.stop());

  it('plan, delegate, execute with a question, learn and synthesise from one submitTask', async () => {
    const events = await subscribe(server, Watch);
    const tokens = await subscribe(server, Tokens);
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    // A lease a loaded machine's heartbeats keep: every step here must run exactly once.
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    try {
      const submitted = await server.gql(Submit, {
        input: {
          title: 'Electric bike market brief',
          description:
            'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.',
        },
      });
      expect(submitted.errors).toBeUndefined();
      const rootId = submitted.data!.submitTask.id;
      const tasks = await waitForWorkflow(
        server,
        rootId,
        (all) =>
          all.find((t) => t.id === rootId)?.status === 'COMPLETED' ||
          all.some((t) => t.status === 'FAILED'),
        WORKFLOW_MS,
      );
      const root = tasks.find((t) => t.id === rootId)!;
      expect(tasks.filter((t) => t.status === 'FAILED')).toEqual([]);
      expect(root.status).toBe('COMPLETED');
      const steps = tasks.filter((t) => t.id !== rootId);
      expect(steps.length).toBeGreaterThanOrEqual(3); // at least two steps and the synthesis
      expect(steps.every((t) => t.status === 'COMPLETED')).toBe(true);
      const synthesis = steps.find((t) => t.key === 'synthesis')!;
      expect(root.result).toBe(synthesis.result);
      // The answer is drawn from every operator's report (each names its step's title).
      const operated = steps.filter((t) => t.key !== 'synthesis');
      expect(root.result).toContain(`of ${operated.length} report(s)`);
      for (const s of operated) expect(root.result).toContain(s.title);
      expect(synthesis.assignment?.agent.name).toBe('Chief');
      for (const s of steps.filter((t) => t.key !== 'synthesis')) {
        expect(['Researcher', 'Analyst', 'Writer']).toContain(s.assignment?.agent.name);
      }

      // The graph holds the whole story.
      const t = { rootId };
      expect(
        await count(
          server,
          `MATCH (:Task {id: $rootId})<-[:SUBTASK_OF]-(s:Task)-[:DELEGATED_BY]->(:Agent {name: 'Chief'}) RETURN count(s) AS n`,
          t,
        ),
      ).toBe(steps.length);
      expect(
        await count(
          server,
          `MATCH (:Task {id: $rootId})<-[:SUBTASK_OF]-(s:Task)-[:DEPENDS_ON]->(:Task) RETURN count(s) AS n`,
          t,
        ),
      ).toBeGreaterThan(0);
      expect(
        await count(
          server,
          `MATCH (:Task {id: $rootId})<-[:SUBTASK_OF]-(:Task)-[:REQUIRES]->(:Capability) RETURN count(*) AS n`,
          t,
        ),
      ).toBeGreaterThan(0);
      expect(
        await count(
          server,
          `MATCH (:Agent {name: 'Chief'})-[:SENT]->(m:Message {kind: 'DELEGATION', tenantId: $tenantId}) RETURN count(m) AS n`,
        ),
      ).toBe(steps.length - 1);
      // Questions asked in this workflow's steps, each answered to its asker about the same step.
      const asked = `MATCH (:Task {id: $rootId})<-[:SUBTASK_OF]-(s:Task)<-[:ABOUT]-(q:Message {kind: 'QUESTION'}),
                           (asker:Agent)-[:SENT]->(q)-[:TO]->(expert:Agent)`;
      const questions = await count(server, `${asked} RETURN count(DISTINCT q) AS n`, t);
      expect(questions).toBeGreaterThanOrEqual(1);
      expect(
        await count(
          server,
          `${asked}, (expert)-[:SENT]->(a:Message {kind: 'ANSWER'})-[:TO]->(asker), (a)-[:ABOUT]->(s)
           RETURN count(DISTINCT a) AS n`,
          t,
        ),
      ).toBe(questions);
      expect(
        await count(
          server,
          `MATCH (m:Message {kind: 'REPORT', tenantId: $tenantId})-[:TO]->(:Agent {name: 'Chief'}) RETURN count(m) AS n`,
        ),
      ).toBeGreaterThanOrEqual(steps.length - 1);
      expect(
        await count(
          server,
          `MATCH (k:Knowledge {tenantId: $tenantId})-[:LEARNED_FROM]->(:Run)-[:OF]->(s:Task), (k)-[:LEARNED_FROM]->(s), (k)-[:CONTRIBUTED_BY]->(:Agent) RETURN count(DISTINCT k) AS n`,
        ),
      ).toBeGreaterThan(0);
      expect(
        await count(
          server,
          `MATCH (:Run {tenantId: $tenantId})-[:CALLED]->(c:LLMCall {provider: 'offline', model: 'offline/deterministic-v1'}) RETURN count(c) AS n`,
        ),
      ).toBeGreaterThanOrEqual(steps.length);

      // Live: the root's transitions arrived over the subscription, ending COMPLETED.
      const seen: string[] = [];
      for (let i = 0; i < 200 && !seen.includes('COMPLETED'); i++) {
        const e = await events.waitForNext(5_000);
        if (e.data?.taskUpdated.task.id === rootId) seen.push(e.data.taskUpdated.task.status);
      }
      expect(seen[0]).toBe('PENDING');
      expect(seen).toContain('IN_PROGRESS');
      expect(seen.at(-1)).toBe('COMPLETED');

      // The steps' models streamed their tokens while they worked.
      const streamed = [
        await tokens.waitForNext(),
        await tokens.waitForNext(),
        await tokens.waitForNext(),
      ];
      const stepIds = new Set(steps.map((s) => s.id).concat(rootId));
      for (const e of streamed) {
        expect(stepIds.has(e.data!.stepTokens.taskId)).toBe(true);
        expect(e.data!.stepTokens.token.length).toBeGreaterThan(0);
      }
    } finally {
      await tokens.close();
      await scheduler.stop({ abort: true });
      await events.close();
    }
  });
});
