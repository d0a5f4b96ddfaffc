/**
 * Writing evaluations inside the transaction that causes them (issue 12): the objective one of
 * an ended run (with its outcome) and of a finished root task (when it settles), each announced
 * as EVALUATED on the evolution topic after the commit.
 */
import { stableId } from '../../../graph/agent-work.repository.js';
import type { Tx } from '../../../graph/cypher.js';
import { rootTaskState } from '../../../graph/evaluation-signals.repository.js';
import { writeEvaluation, type NewEvaluation } from '../../../graph/evaluation.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { EvaluationSource, type Evaluation } from '../../domain/evaluation.js';
import type { Emit } from '../../services/unit-of-work.js';
import { objectiveOfRun, objectiveOfTask, type RunSignals } from './objective.js';

/** A step whose model calls cost more than this starts to lose objective score (USD). */
export const COST_REFERENCE_USD = 0.05;

/** The stable id of a subject's evaluation from a source (a person's: per person too). */
export function evaluationId(subjectId: string, source: EvaluationSource, person?: string): string {
  return person === undefined
    ? stableId(subjectId, 'evaluation', source)
    : stableId(subjectId, 'evaluation', source, person);
}

/** Writes an evaluation and, when its subject is the tenant's, announces it after the commit. */
export async function recordEvaluation(
  tx: Tx,
  emit: Emit,
  e: NewEvaluation,
): Promise<Evaluation | null> {
  const written = await writeEvaluation(tx, e);
  if (written) emit(evaluatedEvent(written));
  return written;
}

/** The EVALUATED event of an evaluation. */
export function evaluatedEvent(e: Omit<Evaluation, 'createdAt'>) {
  return {
    topic: TOPICS.evolution,
    payload: {
      tenantId: e.tenantId,
      kind: 'EVALUATED' as const,
      subjectLabel: e.subjectLabel,
      subjectId: e.subjectId,
      summary: `${e.subjectLabel} ${e.subjectId} judged ${e.verdict} (${e.score.toFixed(2)}) by ${e.source.toLowerCase()}${e.offline ? ' (offline)' : ''}`,
    },
  };
}

/**
 * The objective evaluation of an attempt that just ended, for the cost its model calls had:
 * written by the statement that ends the run when the graph's calls cost that (endRun's
 * `evaluation`), else by `recordEvaluation` with the cost endRun read (src/engine/record.ts).
 */
export function runEvaluation(
  run: { tenantId: string; runId: string },
  signals: Omit<RunSignals, 'costReferenceUsd'>,
): Omit<Evaluation, 'createdAt'> {
  const scored = objectiveOfRun({ ...signals, costReferenceUsd: COST_REFERENCE_USD });
  return {
    id: evaluationId(run.runId, EvaluationSource.OBJECTIVE),
    tenantId: run.tenantId,
    subjectLabel: 'Run',
    subjectId: run.runId,
    ...scored,
    comment: null,
    by: null,
    offline: false,
  };
}

/**
 * The objective evaluation of a task that just finished, if it is a root (no parent) that
 * COMPLETED, FAILED or was CANCELLED; nothing for a step or an unfinished task.
 */
export async function evaluateRootTask(
  tx: Tx,
  emit: Emit,
  taskId: string,
): Promise<Evaluation | null> {
  const root = await rootTaskState(tx, taskId);
  if (!root || !['COMPLETED', 'FAILED', 'CANCELLED'].includes(root.status)) return null;
  const scored = objectiveOfTask({
    status: root.status as 'COMPLETED' | 'FAILED' | 'CANCELLED',
    steps: root.steps,
  });
  return recordEvaluation(tx, emit, {
    id: evaluationId(root.id, EvaluationSource.OBJECTIVE),
    tenantId: root.tenantId,
    subjectLabel: 'Task',
    subjectId: root.id,
    ...scored,
    comment: null,
    by: null,
    offline: false,
  });
}
