import { randomUUID } from 'node:crypto';
import type { Graph } from '../../graph/graph.js';
import { writeEvaluation } from '../../graph/evaluation.repository.js';
import { recordLLMCall } from '../../graph/llm-call.repository.js';
import { startRun } from '../../graph/run.repository.js';
import { EvaluationSource } from '../../src/domain/evaluation.js';

/** One past run as a test wants it: when it ended, how, how fast, what it cost, how it was judged. */
export interface PastRun {
  taskId: string;
  agentId: string;
  /** ISO time the run ended. */
  endedAt: string;
  status: 'SUCCEEDED' | 'FAILED' | 'RELEASED';
  latencyMs: number;
  /** USD of its one model call; no call when 0 or absent. */
  costUsd?: number;
  /** Its evaluations by source (several: the effective one counts). */
  evaluations?: Partial<Record<EvaluationSource, number>>;
}

/**
 * Writes a history of runs through the platform's own repositories (startRun, recordLLMCall,
 * writeEvaluation); only the end is set by hand, because endRun stamps the database's clock
 * and a constructed history needs known times. Returns the run ids in order.
 */
export async function seedRuns(graph: Graph, tenantId: string, runs: PastRun[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, run] of runs.entries()) {
    const id = randomUUID();
    ids.push(id);
    await graph.write(async (tx) => {
      await startRun(tx, {
        id,
        taskId: run.taskId,
        agentId: run.agentId,
        workerId: 'history',
        score: 1,
        reason: 'constructed history',
      });
      await tx.run({
        cypher: `
          MATCH (r:Run {id: $id, tenantId: $tenantId})
          SET r.status = $status, r.endedAt = datetime($endedAt), r.latencyMs = $latencyMs,
              r.startedAt = datetime($endedAt) - duration({milliseconds: $latencyMs})`,
        params: {
          id,
          tenantId,
          status: run.status,
          endedAt: run.endedAt,
          latencyMs: run.latencyMs,
        },
      });
      if (run.costUsd) {
        await recordLLMCall(tx, {
          id: randomUUID(),
          tenantId,
          provider: 'offline',
          model: 'offline',
          responseModel: null,
          purpose: 'execution',
          promptTokens: 10,
          cachedPromptTokens: 0,
          completionTokens: 10,
          totalTokens: 20,
          costUsd: run.costUsd,
          priced: true,
          latencyMs: 5,
          error: null,
          runId: id,
          taskId: null,
          agentId: null,
        });
      }
      for (const [source, score] of Object.entries(run.evaluations ?? {})) {
        await writeEvaluation(tx, {
          id: `${id}:${source}`,
          tenantId,
          subjectLabel: 'Run',
          subjectId: id,
          source: source as EvaluationSource,
          score,
          rubric: 'constructed history',
          reasons: [`run ${i}`],
          comment: null,
          by: source === EvaluationSource.PERSON ? 'tester' : null,
          offline: true,
        });
      }
    });
  }
  return ids;
}
