import { stableId } from '../../../graph/agent-work.repository.js';
import {
  createLesson,
  followedLessons,
  lessonsInScope,
  strengthenLesson,
} from '../../../graph/lesson.repository.js';
import {
  claimReflection,
  earlierFailure,
  releaseReflection,
  skipUnreflectable,
  unreflectedRuns,
  type ReflectionSubject,
} from '../../../graph/reflection.repository.js';
import { recordTransition } from '../../../graph/transition.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { DEFAULT_EVOLUTION } from '../config.js';
import type { EvolutionContext, EvolutionPass } from '../loop.js';
import { LessonStatus } from '../../domain/lesson.js';
import { moveLessonTo } from './lifecycle.js';
import { reflect, reflectionModel } from './reflect.js';
import { canonicalRule, nearCopy, tidyRule } from './text.js';

/** Runs reflected on per tick, at most (each may cost one model call). */
export const REFLECTION_PAGE = 10;

/**
 * Reflection (issue 12): every ended, evaluated run is looked at once. One whose effective score
 * is below EVOLUTION_LESSON_REFLECT_BELOW, or a PASS that follows such a failure of its family,
 * is reflected on; the rule becomes a CANDIDATE lesson, or strengthens a near-copy of its scope.
 */
export const reflectionPass: EvolutionPass = {
  name: 'lessons: reflection',
  async run(ctx, signal) {
    await ctx.uow.write((tx) => skipUnreflectable(tx, ctx.tenantIds, REFLECTION_PAGE * 20));
    const subjects = await ctx.uow.read((tx) =>
      unreflectedRuns(tx, ctx.tenantIds, REFLECTION_PAGE),
    );
    for (const subject of subjects) {
      if (signal.aborted) return;
      try {
        await learnFrom(ctx, subject, signal);
      } catch (err) {
        ctx.logger.warn({ err, runId: subject.runId }, 'reflection on a run failed');
      }
    }
  },
};

/** What reflecting on one run did. */
export type Learned =
  | { kind: 'skipped' | 'nothing' }
  | { kind: 'created' | 'strengthened'; lessonId: string; content: string };

/**
 * Reflects on one run, once across processes: the run is claimed (reflectedAt) first, given
 * back when the model call fails so a later tick tries again.
 */
export async function learnFrom(
  ctx: EvolutionContext,
  run: ReflectionSubject,
  signal?: AbortSignal,
): Promise<Learned> {
  const { reflectBelow } = (ctx.config ?? DEFAULT_EVOLUTION).lessons;
  const { tenantId } = run;
  if (!(await ctx.uow.write((tx) => claimReflection(tx, tenantId, run.runId)))) {
    return { kind: 'skipped' };
  }
  let failure: ReflectionSubject | null = run;
  let success: ReflectionSubject | null = null;
  if (run.score >= reflectBelow) {
    // A pass: worth a lesson only as the contrast to a failure of its family.
    success = run;
    failure = run.family
      ? await ctx.uow.read((tx) =>
          earlierFailure(tx, tenantId, run.runId, run.family!, reflectBelow),
        )
      : null;
    if (!failure) return { kind: 'nothing' };
  }
  // A lesson needs a scope to reach any prompt (lessonsFor).
  if (!failure.capability && !failure.family) return { kind: 'nothing' };
  // What the failed run followed: the feedback may show one of them wrong now (ExpeL's edit).
  const followed = await ctx.uow.read((tx) => followedLessons(tx, tenantId, failure.runId));
  const { model, flush } = reflectionModel(ctx, tenantId);
  let rule: string;
  let replaced: { id: string; content: string }[];
  try {
    const out = await reflect(model, failure, success, signal, followed);
    rule = tidyRule(out.rule ?? '');
    replaced = [...new Set(out.replaces)].flatMap((n) => followed[n - 1] ?? []);
  } catch (err) {
    await ctx.uow.write((tx) => releaseReflection(tx, tenantId, run.runId));
    throw err;
  } finally {
    await flush().catch(() => undefined);
  }
  if (!rule) return { kind: 'nothing' };
  const learned = await writeLesson(ctx, run, failure, success, rule);
  for (const old of replaced) {
    if (old.id === learned.lessonId) continue;
    await moveLessonTo(
      ctx.uow,
      tenantId,
      old.id,
      LessonStatus.RETIRED,
      `replaced by "${rule}" after run ${failure.runId} (${failure.verdict}) followed it: the feedback asks for the new rule`,
      'PLATFORM',
      [LessonStatus.CANDIDATE, LessonStatus.ACTIVE],
    );
  }
  return learned;
}

/** Writes the rule as a CANDIDATE lesson of the failed run's scope, or strengthens a near-copy. */
async function writeLesson(
  ctx: EvolutionContext,
  run: ReflectionSubject,
  failure: ReflectionSubject,
  success: ReflectionSubject | null,
  rule: string,
): Promise<Extract<Learned, { lessonId: string }>> {
  const { tenantId } = run;
  const runIds = [failure.runId, ...(success ? [success.runId] : [])];
  // The scope is the failed run's: its capability (a step's) and its family.
  const capability = failure.capability;
  const family = failure.family;
  return ctx.uow.run(async (tx, emit) => {
    const existing = nearCopy(rule, await lessonsInScope(tx, tenantId, capability, family));
    if (existing) {
      const strength = await strengthenLesson(tx, tenantId, existing.id, runIds);
      emit({
        topic: TOPICS.evolution,
        payload: {
          tenantId,
          kind: 'LESSON_CHANGED',
          subjectLabel: 'Knowledge',
          subjectId: existing.id,
          summary: `lesson strengthened to ${strength} by run ${run.runId}: ${existing.content}`,
        },
      });
      return { kind: 'strengthened', lessonId: existing.id, content: existing.content };
    }
    const id = stableId(tenantId, 'lesson', capability ?? '', family ?? '', canonicalRule(rule));
    const created = await createLesson(tx, {
      id,
      tenantId,
      content: rule,
      capability,
      family,
      runIds,
    });
    if (created) {
      await recordTransition(tx, {
        tenantId,
        subjectLabel: 'Knowledge',
        subjectId: id,
        from: null,
        to: 'CANDIDATE',
        reason: success
          ? `drawn from run ${failure.runId} (${failure.verdict}) and the later run ${success.runId} (PASS) of "${family}"`
          : `drawn from run ${failure.runId} (${failure.verdict}, score ${failure.score.toFixed(2)})`,
        actor: 'PLATFORM',
      });
    }
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId,
        kind: 'LESSON_CHANGED',
        subjectLabel: 'Knowledge',
        subjectId: id,
        summary: `new CANDIDATE lesson for ${[capability, family].filter(Boolean).join(' / ') || 'everything'}: ${rule}`,
      },
    });
    return { kind: 'created', lessonId: id, content: rule };
  });
}
