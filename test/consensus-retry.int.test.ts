import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime, type AgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { startScheduler } from './utils/engine.js';
import { createPlan, publishedEnds, startWorkflow } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** How long a vote of offline agents may take on a loaded 2-core machine. */
const STEP_MS = 180_000;

/** A model whose every call fails the way an aborted HTTP request does (transient: retried). */
function abortedModel(model: BaseChatModel): BaseChatModel {
  const fail = () =>
    Promise.reject(new DOMException('the model request was aborted', 'AbortError'));
  return new Proxy(model, {
    get(target, prop, receiver) {
      if (prop === 'invoke') return fail;
      if (prop === 'withStructuredOutput') return () => ({ invoke: fail });
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

describe('a consensus step tried again, on the offline model', { timeout: 3 * STEP_MS }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  /** The runs whose knowledge extraction fails: the first attempt of each step. */
  const failing = new Set<string>();
  const seen = new Set<string>();

  beforeAll(async () => {
    server = await startTestServer();
    // Ada and Bea work in metric units, Cy in imperial: the offline model follows each voter's
    // own instructions, so two answers agree and one differs.
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Ada", role: MASTER_OPERATOR, systemPrompt: "Give lengths in metric units.",
        capabilities: [{ name: "survey" }] },
      { name: "Bea", role: MASTER_OPERATOR, systemPrompt: "Give lengths in metric units.",
        capabilities: [{ name: "survey" }] },
      { name: "Cy", role: MASTER_OPERATOR, systemPrompt: "Give lengths in imperial units.",
        capabilities: [{ name: "survey" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    // Every voter's loop finishes in the first attempt, then its extraction call is aborted, so
    // no voter answers and the step is tried again: the retry finds each loop finished.
    const rt: AgentRuntime = {
      ...runtime,
      model: (request, step, purpose) => {
        const model = runtime.model(request, step, purpose);
        if (!seen.has(step.task.id)) {
          seen.add(step.task.id);
          failing.add(step.run.id);
        }
        return purpose === 'extraction' && failing.has(step.run.id) ? abortedModel(model) : model;
      },
    };
    scheduler = startScheduler(server, agentExecutor(rt), { stepTimeoutMs: STEP_MS });
  });
  afterAll(async () => {
    await scheduler?.stop({ abort: true });
    await server?.stop();
  });

  it("gives each voter its own loop: a retry resumes every voter's answer, not one for all", async () => {
    const ids = await createPlan(server, [
      { key: 'root', title: 'Bridge survey, tried again' },
      {
        key: 'step',
        parentKey: 'root',
        title: 'Measure the pier height',
        requiredCapabilities: ['survey'],
        consensus: { voters: 3, strategy: 'MAJORITY' },
        maxAttempts: 3,
      } as never,
    ]);
    const ends = publishedEnds(server);
    await startWorkflow(server, ids.root!);
    // Read once its end was published: a poll could find it COMPLETED mid-commit.
    await ends.ended(ids.step!, STEP_MS).finally(ends.stop);
    const res = await server.gql(
      `query($id: ID!) { task(id: $id) { status error attempts
        runs { id status attempt decision { votes answers { content votes agent { name } } } } } }`,
      { id: ids.step } as never,
    );
    expect(res.errors).toBeUndefined();
    const step = (
      res.data as {
        task: {
          status: string;
          error: string | null;
          attempts: number;
          runs: {
            id: string;
            status: string;
            attempt: number;
            decision: {
              votes: number;
              answers: { content: string; votes: number; agent: { name: string } }[];
            } | null;
          }[];
        };
      }
    ).task;
    expect(step.status, step.error ?? '').toBe('COMPLETED');
    expect(step.attempts).toBe(2);
    const run = step.runs.find((r) => r.status === 'SUCCEEDED')!;
    expect(run.attempt).toBe(2);
    // Each voter answered as itself: its own name and its own instructions.
    expect(run.decision!.answers).toHaveLength(3);
    for (const a of run.decision!.answers) {
      expect(a.content).toContain(`Answered by ${a.agent.name}.`);
      const units = a.agent.name === 'Cy' ? 'imperial' : 'metric';
      expect(a.content).toContain(`Approach: Give lengths in ${units} units.`);
      expect(a.votes).toBe(a.agent.name === 'Cy' ? 1 : 2);
    }
    expect(run.decision!.votes).toBe(2);
    // The retry resumed the three finished loops: no voter asked the model to execute again.
    const [row] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (:Run {id: $runId})-[:CALLED]->(c:LLMCall {purpose: 'execution'})
                 RETURN count(c) AS n`,
        params: { runId: run.id },
      }),
    );
    expect(Number(row!.n)).toBe(0);
  });
});
