/*
 * Reflection (issue 12, ExpeL-style): a run that failed or scored low, or a success that
 * followed a failure of its family, is read with its feedback (a person's comment, the judge's
 * reasons) and turned into one short imperative rule. One structured-output call, strict-safe.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import type { ReflectionSubject } from '../../../graph/reflection.repository.js';
import { LLMCallRecorder } from '../../llm/accounting.js';
import { BudgetGuard } from '../../llm/budget.js';
import { createChatModel, describeModel } from '../../llm/models.js';
import { purposeMarker } from '../../llm/routing.js';
import type { EvolutionContext } from '../loop.js';

export const ReflectionSchema = z.object({
  rule: z
    .string()
    .nullable()
    .describe(
      'One short imperative rule that would have made the failed run pass, e.g. "Give weights in kg."; null when the feedback shows nothing to do differently',
    ),
  rationale: z.string().describe('Why, in one sentence, citing the feedback'),
  replaces: z
    .array(z.number().int())
    .describe(
      'The numbers of the lessons the failed run followed that the feedback shows to be wrong now (the new rule replaces them); [] when none',
    ),
});
export type Reflection = z.infer<typeof ReflectionSchema>;

const SYSTEM = `You improve an organisation of AI agents by learning from its runs. Read what a run was asked, what it produced and what its judges said, and write ONE lesson: a short imperative rule (at most 20 words) that a later run of the same kind should follow to pass. State the rule itself ("Give weights in kg."), not a story about the run. If the feedback shows nothing to do differently, answer null. If the run followed lessons that the feedback shows to be wrong now (the new rule replaces them), list their numbers in replaces.
${purposeMarker('reflection')}`;

/** The heading of the numbered lessons the failed run followed (the offline model reads it). */
export const FOLLOWED = 'Lessons the failed run followed:';

const clip = (text: string | null, n: number) =>
  !text ? '' : text.length > n ? `${text.slice(0, n - 1)}…` : text;

function describeRun(label: string, s: ReflectionSubject): string[] {
  return [
    `${label}: ${s.title} (run ${s.runId})`,
    `Outcome: ${s.verdict}, score ${s.score.toFixed(2)}`,
    ...(s.description ? [`Asked: ${clip(s.description, 800)}`] : []),
    ...(s.result ? [`Produced: ${clip(s.result, 1200)}`] : []),
    ...(s.error ? [`Error: ${clip(s.error, 400)}`] : []),
  ];
}

/**
 * The reflection prompt. It starts with "Reflect:" (the offline model's marker) and lists the
 * feedback under "Feedback:", one item a line, the failure's first.
 */
export function reflectionMessages(
  failure: ReflectionSubject,
  success: ReflectionSubject | null,
  /** The lessons the failed run's prompts carried, numbered from 1 in the prompt. */
  followed: readonly { content: string }[] = [],
) {
  const feedback = [...failure.feedback, ...(success?.feedback ?? [])]
    .map((f) => f.trim())
    .filter(Boolean)
    .slice(0, 12);
  return [
    new SystemMessage(SYSTEM),
    new HumanMessage(
      [
        `Reflect: a run of the family "${failure.family ?? 'none'}"${failure.capability ? `, capability "${failure.capability}"` : ''} ${success ? 'failed, and a later one passed' : 'did not pass'}.`,
        ...describeRun('Failed run', failure),
        ...(success ? ['', ...describeRun('Later run that passed', success)] : []),
        ...(followed.length
          ? ['', FOLLOWED, ...followed.map((l, i) => `${i + 1}. ${clip(l.content, 300)}`)]
          : []),
        '',
        'Feedback:',
        ...(feedback.length ? feedback.map((f) => `- ${clip(f, 400)}`) : ['- none given']),
      ].join('\n'),
    ),
  ];
}

/** Asks the model for the lesson; the rule is null when it found nothing to learn. */
export async function reflect(
  model: BaseChatModel,
  failure: ReflectionSubject,
  success: ReflectionSubject | null,
  signal?: AbortSignal,
  followed: readonly { content: string }[] = [],
): Promise<Reflection> {
  const out = await model
    .withStructuredOutput(ReflectionSchema, { name: 'lesson' })
    .invoke(reflectionMessages(failure, success, followed), { signal });
  return ReflectionSchema.parse(out);
}

/**
 * The `reflection`-purpose model of the learning loop for one tenant: every call an :LLMCall of
 * the tenant (booked to no run: reflection is the platform's own spending), budget-checked.
 */
export function reflectionModel(
  ctx: EvolutionContext,
  tenantId: string,
): { model: BaseChatModel; flush(): Promise<void> } {
  const request = { purpose: 'reflection' as const };
  const recorder = new LLMCallRecorder({
    store: ctx.uow,
    tenantId,
    purpose: 'reflection',
    runId: null,
    taskId: null,
    agentId: null,
    prices: ctx.llm.prices,
    describe: describeModel(request, ctx.llm),
    log: ctx.logger,
  });
  const guard = ctx.budgets
    ? new BudgetGuard(
        { uow: ctx.uow, defaults: ctx.budgets, logger: ctx.logger },
        { tenantId, agentId: null, taskId: null },
      )
    : undefined;
  const model = createChatModel(request, ctx.llm, [recorder], ctx.logger, guard);
  recorder.attach(model);
  return { model, flush: () => recorder.flush() };
}
