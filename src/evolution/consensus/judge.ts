import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import type { AgentRuntime } from '../../agents/runtime.js';
import type { StepContext } from '../../engine/executor.js';
import { purposeMarker } from '../../llm/routing.js';

/** Strict-mode safe: every property required, no optional fields. */
const Pick = z.object({
  choice: z.number().describe('The number of the best answer (1 for "Answer 1")'),
  reason: z.string().describe('Why that answer is the best, in one or two sentences'),
});

export interface JudgePick {
  /** 0-based index into the answers. */
  index: number;
  reason: string;
}

/**
 * The `evaluation` judge picks the best of a step's answers (JUDGE strategy). The answers are
 * shown without their authors, numbered in voter order. The call is recorded as an :LLMCall of
 * the step's run.
 *
 * @throws when the model fails, or picks a number that is not one of the answers.
 */
export async function judgeAnswers(
  rt: AgentRuntime,
  step: StepContext,
  answers: readonly string[],
): Promise<JudgePick> {
  const { task } = step;
  const model = rt.model({ purpose: 'evaluation', priority: task.priority }, step, 'evaluation');
  const picked = Pick.parse(
    await model
      .withStructuredOutput(Pick, { name: 'consensus_pick' })
      .invoke(
        [
          new SystemMessage(
            `You are the judge of an organisation of AI agents. Several operators answered the same step independently. Pick the answer that best does what the step asks: correct, complete and to the point.\n${purposeMarker('evaluation')}`,
          ),
          new HumanMessage(
            [
              'Consensus: pick the best answer to this step.',
              `Title: ${task.title}`,
              `Description: ${(task.description ?? task.title).replace(/\n+/g, ' ')}`,
              '',
              ...answers.flatMap((a, i) => [`Answer ${i + 1}:`, a, '']),
            ].join('\n'),
          ),
        ],
        { signal: step.signal },
      ),
  );
  const index = Math.round(picked.choice) - 1;
  if (!(index >= 0 && index < answers.length)) {
    throw new Error(
      `the judge picked answer ${picked.choice}, but there are only ${answers.length} answers`,
    );
  }
  return { index, reason: picked.reason };
}
