import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recordLLMCall } from '../graph/llm-call.repository.js';
import type { Executor } from '../src/engine/executor.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';
import { recordTransactions } from './utils/statements.js';

/** Over the objective evaluation's reference of $0.05: a success scores 1 - 0.04. */
const COST = 0.07;

/**
 * A run's objective evaluation counts what its model calls cost (issue 12). The statement that
 * ends the run writes it when the graph's calls cost what the executor booked as it made them
 * (one round trip less in every step's end, issue 15); otherwise a statement after it writes it
 * with the cost the end read: the graph's records are what counts, never the booking.
 */
describe('a run’s objective evaluation and its cost', () => {
  it('is written with the end when the calls recorded cost what was booked, else after it', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      // Each step records a priced call on its run (as the recorder does, in a transaction of
      // its own), books it, or both, as its title says.
      const executor: Executor = async ({ task, agent, run }) => {
        if (task.title !== 'unrecorded') {
          const call = {
            id: randomUUID(),
            tenantId: task.tenantId,
            provider: 'openai',
            model: 'gpt-test',
            responseModel: null,
            purpose: 'execution',
            promptTokens: 1_000,
            cachedPromptTokens: 0,
            completionTokens: 100,
            totalTokens: 1_100,
            costUsd: COST,
            priced: true,
            latencyMs: 5,
            error: null,
            runId: run.id,
            taskId: task.id,
            agentId: agent.id,
          };
          await server.graph.write((tx) => recordLLMCall(tx, call));
        }
        if (task.title !== 'unbooked' && run.spent) run.spent.usd += COST;
        return { result: 'done' };
      };
      // Each ends in a transaction of its own: one waits for the one before.
      const written = recordTransactions(server);
      let ids: Record<string, string>;
      try {
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'booked', parentKey: 'root' },
          { key: 'b', title: 'unbooked', parentKey: 'root', dependsOnKeys: ['a'] },
          { key: 'c', title: 'unrecorded', parentKey: 'root', dependsOnKeys: ['b'] },
        ]);
        await withScheduler(server, executor, async () => {
          const tasks = await waitForWorkflow(server, ids.root!, allFinished);
          expect(tasks.map((t) => t.status)).toEqual(Array(4).fill('COMPLETED'));
        });
      } finally {
        server.graph.onStatement = undefined;
      }
      const evaluations = await server.graph.read((tx) =>
        tx.run<{ taskId: string; score: number; reasons: string[] }>({
          cypher: `
            MATCH (ev:Evaluation {source: 'OBJECTIVE'})-[:EVALUATES]->(:Run)-[:OF]->(t:Task)
            WHERE t.tenantId = $tenantId
            RETURN t.id AS taskId, ev.score AS score, ev.reasons AS reasons`,
          params: { tenantId: server.tenantId },
        }),
      );
      const of = (key: string) => evaluations.filter((e) => e.taskId === ids[key]);
      const endOf = (key: string) =>
        [...written.values()].find((s) => s.ended.includes(ids[key]!))!.names;
      const separately = 'evaluation.repository.writeEvaluationBatch';
      // Booked and recorded: judged with the cost, by the statement that ended the run.
      expect(of('a')).toEqual([
        expect.objectContaining({
          score: 0.96,
          reasons: expect.arrayContaining([expect.stringMatching(/^cost \$0\.0700 against/)]),
        }),
      ]);
      expect(endOf('a')).not.toContain(separately);
      // Recorded, not booked: the cost the end read, in a statement of its own.
      expect(of('b')).toEqual([expect.objectContaining({ score: 0.96 })]);
      expect(endOf('b')).toContain(separately);
      // Booked, never recorded: the graph holds no cost, so none counts.
      expect(of('c')).toEqual([
        expect.objectContaining({
          score: 1,
          reasons: expect.arrayContaining([expect.stringMatching(/^cost \$0\.0000 against/)]),
        }),
      ]);
      expect(endOf('c')).toContain(separately);
    });
  });
});
