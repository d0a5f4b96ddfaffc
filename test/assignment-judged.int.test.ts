import { describe, expect, it } from 'vitest';
import { candidateAgents } from '../graph/claim.repository.js';
import { writeEvaluation } from '../graph/evaluation.repository.js';
import { recordPerformance } from '../graph/run.repository.js';
import { EvaluationSource } from '../src/domain/evaluation.js';
import type { Executor } from '../src/engine/executor.js';
import { seedRuns } from './utils/analytics-fixtures.js';
import { allFinished, byKey, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  createPlan,
  inTenant,
  startPlan,
  withScheduler,
} from './utils/engine-steps.js';
import type { TestServer } from './utils/server.js';

/*
 * Smart assignment on judged scores (issue 12): each run's end adds its effective evaluation to
 * the HAS_CAPABILITY statistics that assignment reads.
 */

async function judgedStats(server: TestServer, agent: string) {
  const candidates = await server.graph.read((tx) => candidateAgents(tx, [server.tenantId]));
  return candidates.find((c) => c.agent.name === agent)!.capabilities[0]!;
}

describe('assignment statistics from judged runs', () => {
  it("adds a run's effective score to its agent's capability statistics when the engine records its end", async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Analyst: ['analysis'] });
      // The step queues a judge's evaluation of its own run, as the judge chain does: it
      // commits with the outcome, before the statistics are updated.
      const judged: Executor = async ({ task, run, writes }) => {
        writes.add('judge', async (tx) => {
          await writeEvaluation(tx, {
            id: `${run.id}:judge`,
            tenantId: task.tenantId,
            subjectLabel: 'Run',
            subjectId: run.id,
            source: EvaluationSource.JUDGE,
            score: 0.3,
            rubric: 'test judge',
            reasons: ['misses the point'],
            comment: null,
            by: 'test',
            offline: true,
          });
        });
        return { result: 'done' };
      };
      const plan = await startPlan(server, [
        { key: 'root', title: 'Judged work' },
        { key: 'step', title: 'Analyse', parentKey: 'root', requiredCapabilities: ['analysis'] },
      ]);
      await withScheduler(server, judged, async () => {
        const k = byKey(await waitForWorkflow(server, plan.root!, allFinished));
        expect(k.step!.status).toBe('COMPLETED');
      });
      expect(await judgedStats(server, 'Analyst')).toMatchObject({
        runs: 1,
        successes: 1,
        scored: 1,
        scoreSum: 0.3,
      });
    });
  }, 120_000);

  it("recordPerformance takes the run's effective evaluation: a person's rating over the judge's; a run without one adds no score", async () => {
    await inTenant(async (server) => {
      const ids = await createOperators(server, { Writer: ['writing'] });
      const tasks = await createPlan(server, [
        { key: 'root', title: 'Rated work' },
        { key: 'step', title: 'Write', parentKey: 'root', requiredCapabilities: ['writing'] },
      ]);
      const [rated, unrated] = await seedRuns(server.graph, server.tenantId, [
        {
          taskId: tasks.step!,
          agentId: ids.Writer!,
          endedAt: '2025-03-01T10:00:00Z',
          status: 'SUCCEEDED',
          latencyMs: 100,
          evaluations: { OBJECTIVE: 1, JUDGE: 0.9, PERSON: 0.4 },
        },
        {
          taskId: tasks.step!,
          agentId: ids.Writer!,
          endedAt: '2025-03-01T11:00:00Z',
          status: 'SUCCEEDED',
          latencyMs: 100,
        },
      ]);
      await server.graph.write(async (tx) => {
        await recordPerformance(tx, ids.Writer!, tasks.step!, true, 100, rated!, 0);
        await recordPerformance(tx, ids.Writer!, tasks.step!, true, 100, unrated!, 0);
      });
      expect(await judgedStats(server, 'Writer')).toMatchObject({
        runs: 2,
        successes: 2,
        scored: 1,
        scoreSum: 0.4,
      });
    });
  }, 120_000);
});
