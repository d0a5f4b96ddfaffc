import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { DEFAULT_EVOLUTION } from '../src/evolution/config.js';
import { constructLesson, ensureCapability } from './utils/lesson-history.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

// A CANDIDATE lesson is applied only to the runs its draw picks (issue 12): it must not come in
// through the back door of a knowledge search (the offline operator searches with the step's
// title, and a lesson's tags hold its family), or the runs without it would vanish and its
// efficacy could never be measured.

const WORKFLOW_MS = 90_000;

describe('a candidate lesson outside its share of runs', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('is not applied to a run, neither as a rule nor through search_knowledge', async () => {
    const created = await server.gql(
      `mutation { createAgents(inputs: [
        { name: "Chief", role: CHIEF_OF_STAFF },
        { name: "Doer", role: MASTER_OPERATOR,
          capabilities: [{ name: "research" }, { name: "analysis" }, { name: "writing" }] }
      ]) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    await ensureCapability(server, 'research');
    const lesson = await constructLesson(server, 'Give the parcel weights in kg.', {
      capability: 'research',
      family: 'ship-parcels-berlin',
    });
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      lessons: { ...DEFAULT_EVOLUTION.lessons, candidateShare: 0 },
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    try {
      const submitted = await server.gql<{ submitTask: { id: string } }, object>(
        `mutation { submitTask(input: { title: "Ship parcels to Berlin",
           description: "Research the parcel weights for the Berlin shipment. Then write a short shipping note." }) { id } }`,
      );
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
      expect(tasks.filter((t) => t.status === 'FAILED')).toEqual([]);
      expect(tasks.some((t) => /Rules followed/.test(t.result ?? ''))).toBe(false);
    } finally {
      await scheduler.stop();
    }
    const applied = await server.graph.read((tx) =>
      tx.run<{ runId: string }>({
        cypher: `MATCH (:Knowledge {id: $id})-[:APPLIED_IN]->(r:Run) RETURN r.id AS runId`,
        params: { id: lesson },
      }),
    );
    expect(applied).toEqual([]);
  });
});
