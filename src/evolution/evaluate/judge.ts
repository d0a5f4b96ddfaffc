/**
 * The judge (issue 12): a model call (purpose `evaluation`) that checks a succeeded step's
 * result against the step's expected output and the task's description, and returns a score,
 * a verdict and short reasons. Its evaluation is queued on the step's writes, so it commits
 * with the outcome. A judge that fails (a model error) never fails the step: it is logged and
 * the run keeps its objective evaluation; an abort still aborts.
 */
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import type { AgentRuntime } from '../../agents/runtime.js';
import { EvaluationSource, Verdict, verdictOf } from '../../domain/evaluation.js';
import type { Task } from '../../domain/task.js';
import type { StepContext } from '../../engine/executor.js';
import { describeModel } from '../../llm/models.js';
import { JUDGE_REQUEST } from '../../llm/offline-judge.js';
import { purposeMarker } from '../../llm/routing.js';
import { evaluationId, recordEvaluation } from './record.js';

/** What the judge answers (strict-schema safe: every field required, no defaults). */
export const JudgementSchema = z.object({
  score: z.number().min(0).max(1).describe('How well the result meets what was expected, 0 to 1'),
  verdict: z
    .enum([Verdict.PASS, Verdict.PARTIAL, Verdict.FAIL])
    .describe('PASS (meets it), PARTIAL (meets part of it) or FAIL'),
  reasons: z.array(z.string()).max(6).describe('Short reasons, one per point checked'),
  feedback: z.string().describe('One sentence: what to do better, or why it is good'),
});

export interface Judgement {
  score: number;
  verdict: Verdict;
  rubric: string;
  reasons: string[];
  comment: string | null;
  by: string;
  offline: boolean;
}

/** How much of a result the judge reads. */
const RESULT_CHARS = 8_000;

export const JUDGE_RUBRIC =
  "judge model: the result against the step's expected output and the task's description";
export const OFFLINE_JUDGE_RUBRIC =
  "offline model (deterministic, not a real judge): coverage of the expected output's and the description's key terms in the result";

/**
 * Judges `result` of the step against `subject` (the step's task, or for a synthesis the
 * root task); null when the judge failed (logged). Throws only the step's abort.
 */
export async function judgeResult(
  rt: AgentRuntime,
  step: StepContext,
  subject: Pick<Task, 'title' | 'description' | 'expectedOutput'>,
  result: string,
): Promise<Judgement | null> {
  const request = { purpose: 'evaluation' as const };
  const { provider, model } = describeModel(request, rt.llm);
  const offline = provider === 'offline';
  try {
    const answer = await rt
      .model(request, step, 'evaluation')
      .withStructuredOutput(JudgementSchema, { name: 'judgement' })
      .invoke(
        [
          new SystemMessage(
            `You judge the work of an AI agent. Score how well the result meets the expected output and the task description, from 0 (not at all) to 1 (fully), with short reasons. Judge only what the result says.\n${purposeMarker('evaluation')}`,
          ),
          new HumanMessage(
            `${JUDGE_REQUEST}\n${JSON.stringify(
              {
                task: subject.title,
                description: subject.description ?? null,
                expectedOutput: subject.expectedOutput ?? null,
                result: result.slice(0, RESULT_CHARS),
              },
              null,
              2,
            )}`,
          ),
        ],
        { signal: step.signal },
      );
    const score = Math.min(1, Math.max(0, answer.score));
    const verdict = verdictOf(score);
    const reasons = answer.reasons.map((r) => r.slice(0, 300)).slice(0, 6);
    // One rule maps scores to verdicts everywhere; a judge that said otherwise is noted.
    if (answer.verdict !== verdict) reasons.push(`the judge said ${answer.verdict}`);
    return {
      score,
      verdict,
      rubric: offline ? OFFLINE_JUDGE_RUBRIC : JUDGE_RUBRIC,
      reasons,
      comment: answer.feedback.slice(0, 1_000) || null,
      by: model.startsWith(`${provider}/`) ? model : `${provider}/${model}`,
      offline,
    };
  } catch (err) {
    if (step.signal.aborted) throw step.signal.reason;
    if ((err as Error)?.name === 'AbortError') throw err;
    rt.logger.warn(
      { err, taskId: step.task.id, runId: step.run.id, agentId: step.agent.id },
      'the judge failed; the run keeps its objective evaluation',
    );
    return null;
  }
}

/**
 * Judges a succeeded operator or synthesis step and queues its JUDGE evaluation on the step's
 * writes: of the run, and for a synthesis (given `root`) of the root task as well, against the
 * root's description.
 */
export async function judgeStep(
  rt: AgentRuntime,
  step: StepContext,
  result: string,
  root?: Task,
): Promise<void> {
  const judgement = await judgeResult(rt, step, root ?? step.task, result);
  if (!judgement) return;
  const { tenantId } = step.task;
  step.writes.add('judge evaluation', async (tx, emit) => {
    await recordEvaluation(tx, emit, {
      id: evaluationId(step.run.id, EvaluationSource.JUDGE),
      tenantId,
      subjectLabel: 'Run',
      subjectId: step.run.id,
      source: EvaluationSource.JUDGE,
      ...judgement,
    });
    if (root) {
      await recordEvaluation(tx, emit, {
        id: evaluationId(root.id, EvaluationSource.JUDGE),
        tenantId,
        subjectLabel: 'Task',
        subjectId: root.id,
        source: EvaluationSource.JUDGE,
        ...judgement,
      });
    }
  });
}
