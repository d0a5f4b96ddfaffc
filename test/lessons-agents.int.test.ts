import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEvaluation } from '../graph/evaluation.repository.js';
import { stableId } from '../graph/agent-work.repository.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { EvaluationSource } from '../src/domain/evaluation.js';
import { DEFAULT_EVOLUTION } from '../src/evolution/config.js';
import { reflectionPass } from '../src/evolution/lessons/learn.js';
import { unreflectedRuns } from '../graph/reflection.repository.js';
import { evolutionContext } from './utils/lesson-history.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

// A lesson written after a failure reaches the next run of that family (issue 12), end to end
// on the offline model: real plans, real steps, a person's rating, the reflection pass.

const WORKFLOW_MS = 90_000;
const TITLE = 'Ship parcels to Berlin';
const DESCRIPTION =
  'Research the parcel weights for the Berlin shipment. Then write a short shipping note.';

describe('a lesson learned from a failure', { timeout: 4 * WORKFLOW_MS }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  async function runTask(): Promise<string> {
    const submitted = await server.gql<{ submitTask: { id: string; family: string } }, object>(
      `mutation ($title: String!, $description: String!) {
         submitTask(input: { title: $title, description: $description }) { id family } }`,
      { title: TITLE, description: DESCRIPTION },
    );
    expect(submitted.errors).toBeUndefined();
    expect(submitted.data!.submitTask.family).toBe('ship-parcels-berlin');
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
    return rootId;
  }

  /** The research step's run of a workflow, with its task's family and its result. */
  const researchRun = (rootId: string) =>
    server.graph.read(async (tx) => {
      const [row] = await tx.run<{ runId: string; family: string; result: string }>({
        cypher: `
          MATCH (t:Task)-[:SUBTASK_OF]->(:Task {id: $rootId, tenantId: $tenantId})
          MATCH (t)-[:REQUIRES]->(:Capability {name: 'research'})
          MATCH (r:Run {status: 'SUCCEEDED'})-[:OF]->(t)
          RETURN r.id AS runId, t.family AS family, t.result AS result`,
        params: { rootId, tenantId: server.tenantId },
      });
      return row!;
    });

  it('is applied to the next run of its family, which follows it', async () => {
    const created = await server.gql(
      `mutation { createAgents(inputs: [
        { name: "Chief", role: CHIEF_OF_STAFF },
        { name: "Doer", role: MASTER_OPERATOR,
          capabilities: [{ name: "research" }, { name: "analysis" }, { name: "writing" }] }
      ]) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      // Candidates in every prompt, so the next run surely carries the new lesson.
      lessons: { ...DEFAULT_EVOLUTION.lessons, candidateShare: 1 },
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    try {
      const first = await researchRun(await runTask());
      expect(first.family).toBe('ship-parcels-berlin');
      expect(first.result).not.toMatch(/Rules followed/);
      // A person finds the research step wanting, and says what was missing.
      await server.services.uow.write((tx) =>
        writeEvaluation(tx, {
          id: stableId(first.runId, 'evaluation', 'PERSON', 'tester'),
          tenantId: server.tenantId,
          subjectLabel: 'Run',
          subjectId: first.runId,
          source: EvaluationSource.PERSON,
          score: 0.2,
          rubric: 'a person',
          reasons: [],
          comment: 'The answer must give the weights in kg.',
          by: 'tester',
          offline: false,
        }),
      );
      const ctx = evolutionContext(server);
      const pending = () => server.graph.read((tx) => unreflectedRuns(tx, [server.tenantId], 100));
      for (let i = 0; i < 20 && (await pending()).length > 0; i++) {
        await reflectionPass.run(ctx, new AbortController().signal);
      }
      const [lesson] = await server.graph.read((tx) =>
        tx.run<{ id: string; content: string; capability: string; family: string; from: string[] }>(
          {
            cypher: `
            MATCH (l:Knowledge {tenantId: $tenantId, kind: 'LESSON'})-[:DERIVED_FROM]->(:Run {id: $runId})
            RETURN l.id AS id, l.content AS content, l.capability AS capability, l.family AS family,
                   [(l)-[:DERIVED_FROM]->(r:Run) | r.id] AS from`,
            params: { tenantId: server.tenantId, runId: first.runId },
          },
        ),
      );
      expect(lesson).toMatchObject({
        content: 'Give the weights in kg.',
        capability: 'research',
        family: 'ship-parcels-berlin',
      });
      // Drawn from the failure (and from the family's later passes, as their contrast).
      expect(lesson!.from).toContain(first.runId);

      // The next task of the family: its research step's prompt carries the lesson as a rule,
      // the run is APPLIED_IN, and the (offline) operator follows it.
      const secondRoot = await runTask();
      const second = await researchRun(secondRoot);
      expect(second.result).toContain('Rules followed: Give the weights in kg.');
      const applied = await server.graph.read((tx) =>
        tx.run<{ runId: string; key: string | null }>({
          cypher: `
            MATCH (:Knowledge {id: $id})-[:APPLIED_IN]->(r:Run)-[:OF]->(t:Task)
            RETURN r.id AS runId, t.key AS key`,
          params: { id: lesson!.id },
        }),
      );
      expect(applied.map((a) => a.runId)).toContain(second.runId);
      // The planning run of the family got it too; the first task's runs never did.
      expect(applied.some((a) => a.key === null)).toBe(true);
      expect(applied.map((a) => a.runId)).not.toContain(first.runId);
    } finally {
      await scheduler.stop();
    }
  });
});
