import { createHash } from 'node:crypto';
import { lessonsFor, type PromptLesson } from '../../../graph/lesson.repository.js';
import { markApplied } from '../../../graph/memory/applied.repository.js';
import type { StepContext } from '../../engine/executor.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_EVOLUTION, type LessonsConfig } from '../config.js';

/*
 * Lessons in prompts (issue 12): the planning and execution prompts carry the best lessons of
 * the step's capability and family as rules, within a budget; each inclusion is recorded as
 * (:Knowledge)-[:APPLIED_IN]->(:Run), committed with the step's outcome.
 */

/**
 * Where a CANDIDATE lesson falls for a run, in [0, 1): the same for the same run and lesson in
 * every process, so that a share of runs gets it and the rest are its comparison.
 */
export function candidateDraw(runId: string, lessonId: string): number {
  const h = createHash('sha256').update(`${runId}\u0000${lessonId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

/**
 * Which of the fitting lessons (best first) a run's prompt gets: ACTIVE ones, and CANDIDATEs
 * whose draw for this run is under `candidateShare`; at most `count` and `chars` in all.
 */
export function pickLessons(
  lessons: readonly PromptLesson[],
  runId: string,
  budget: { count: number; chars: number; candidateShare: number },
): PromptLesson[] {
  const picked: PromptLesson[] = [];
  let chars = 0;
  for (const l of lessons) {
    if (picked.length >= budget.count) break;
    if (l.status === 'CANDIDATE' && candidateDraw(runId, l.id) >= budget.candidateShare) continue;
    if (chars + l.content.length > budget.chars) continue;
    picked.push(l);
    chars += l.content.length;
  }
  return picked;
}

/**
 * The lessons for this run of the step, queued as APPLIED_IN on `step.writes`; [] when none fit.
 * An agent version's `lessonBudget` (when its agent has one) bounds the count.
 */
export async function lessonsForStep(
  deps: { uow: UnitOfWork; lessons?: LessonsConfig },
  step: StepContext,
  planning: boolean,
): Promise<PromptLesson[]> {
  const cfg = deps.lessons ?? DEFAULT_EVOLUTION.lessons;
  const own = (step.agent as { lessonBudget?: number | null }).lessonBudget;
  const count = typeof own === 'number' ? own : cfg.budget;
  if (count <= 0 || cfg.budgetChars <= 0) return [];
  const { tenantId, id: taskId } = step.task;
  const fitting = await deps.uow.read((tx) =>
    lessonsFor(tx, tenantId, taskId, planning, Math.max(count * 4, 20)),
  );
  const picked = pickLessons(fitting, step.run.id, {
    count,
    chars: cfg.budgetChars,
    candidateShare: cfg.candidateShare,
  });
  if (picked.length > 0) {
    step.writes.add('lessons applied', (tx) =>
      markApplied(
        tx,
        tenantId,
        step.run.id,
        picked.map((l) => ({ label: 'Knowledge' as const, id: l.id })),
      ),
    );
  }
  return picked;
}

/**
 * Knowledge search hits without the lessons and skills the lifecycle manages (those with a
 * status): they reach prompts only through their own retrieval, so that APPLIED_IN means what
 * the candidate draw decided, and a RETIRED one never comes back through a search (issue 12).
 */
export function withoutManaged<T extends { knowledge: { status?: string | null } }>(
  hits: readonly T[],
): T[] {
  return hits.filter((h) => !h.knowledge.status);
}

/**
 * The lessons as a prompt states them: rules to follow, one a line, under "Rules to follow:"
 * (which the offline model reads), followed by a blank line; '' when there are none.
 */
export function lessonSection(lessons: readonly PromptLesson[]): string {
  if (lessons.length === 0) return '';
  return [
    'Lessons learned from earlier runs of this kind of task. Follow each of them as a rule:',
    'Rules to follow:',
    ...lessons.map((l) => `- ${l.content}`),
    '',
    '',
  ].join('\n');
}
