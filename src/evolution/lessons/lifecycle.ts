import {
  driftCounts,
  efficacyCounts,
  lessonById,
  lessonsToReview,
  moveLesson,
  storeEfficacy,
  type ArmCounts,
} from '../../../graph/lesson.repository.js';
import { recordTransition } from '../../../graph/transition.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { BadInputError, ConflictError, NotFoundError } from '../../domain/errors.js';
import { LESSON_MOVES, LessonStatus, type Lesson } from '../../domain/lesson.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_EVOLUTION } from '../config.js';
import type { EvolutionPass } from '../loop.js';
import { decide, efficacyOf, type Efficacy } from './stats.js';

/** Lessons reviewed per tick, at most. */
export const LIFECYCLE_PAGE = 50;

export const asEfficacy = (c: ArmCounts): Efficacy =>
  efficacyOf(
    { n: c.applied, successes: c.appliedSuccesses },
    { n: c.notApplied, successes: c.notAppliedSuccesses },
  );

/**
 * The lessons' lifecycle (issue 12): each CANDIDATE and ACTIVE lesson's efficacy is measured;
 * a CANDIDATE that helps (lower bound of delta > 0 after EVOLUTION_LESSON_MIN_APPLIED
 * applications) becomes ACTIVE; either is RETIRED when it hurts (upper bound < 0) or when its
 * recent applied runs do worse than its earlier ones (the world changed).
 */
export const lessonLifecyclePass: EvolutionPass = {
  name: 'lessons: lifecycle',
  async run(ctx, signal) {
    const { minApplied, recentRuns } = (ctx.config ?? DEFAULT_EVOLUTION).lessons;
    const lessons = await ctx.uow.write((tx) => lessonsToReview(tx, ctx.tenantIds, LIFECYCLE_PAGE));
    for (const lesson of lessons) {
      if (signal.aborted) return;
      try {
        await review(ctx.uow, lesson, minApplied, recentRuns);
      } catch (err) {
        ctx.logger.warn({ err, lessonId: lesson.id }, 'a lesson could not be reviewed');
      }
    }
  },
};

/** Measures one lesson and moves it when the evidence says so; returns its new status. */
export async function review(
  uow: UnitOfWork,
  lesson: Lesson,
  minApplied: number,
  recentRuns: number,
): Promise<LessonStatus> {
  const { tenantId, id } = lesson;
  const [counts, drift] = await uow.read(
    async (tx) =>
      [
        (await efficacyCounts(tx, tenantId, [id])).get(id)!,
        await driftCounts(tx, tenantId, id, recentRuns),
      ] as const,
  );
  const efficacy = asEfficacy(counts);
  const decision = decide(
    lesson.status as 'CANDIDATE' | 'ACTIVE',
    efficacy,
    minApplied,
    drift && asEfficacy(drift),
  );
  await uow.write((tx) => storeEfficacy(tx, tenantId, id, efficacy.delta));
  if (!decision.to) return lesson.status;
  const moved = await moveLessonTo(
    uow,
    tenantId,
    id,
    decision.to as LessonStatus,
    decision.reason,
    'PLATFORM',
    [lesson.status],
  );
  return moved?.status ?? lesson.status;
}

/**
 * Moves a lesson and records why, in one transaction, announced after the commit. `from` limits
 * the statuses it may leave (a conditional write: null when it was no longer in one of them, or
 * `stale`'s error, thrown inside the transaction so that nothing of it is committed).
 */
export async function moveLessonTo(
  uow: UnitOfWork,
  tenantId: string,
  id: string,
  to: LessonStatus,
  reason: string,
  actor: string,
  from: readonly LessonStatus[],
  stale?: (now: Lesson | null) => Error,
): Promise<Lesson | null> {
  return uow.run(async (tx, emit) => {
    const moved = await moveLesson(tx, tenantId, id, from, to);
    if (!moved && stale) throw stale(await lessonById(tx, tenantId, id));
    if (!moved) return null;
    await recordTransition(tx, {
      tenantId,
      subjectLabel: 'Knowledge',
      subjectId: id,
      from: moved.from,
      to,
      reason,
      actor,
    });
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId,
        kind: 'LESSON_CHANGED',
        subjectLabel: 'Knowledge',
        subjectId: id,
        summary: `lesson ${moved.from} -> ${to} (${actor}): ${reason}`,
      },
    });
    return moved.lesson;
  });
}

/**
 * A person retires or activates a lesson (retireLesson / activateLesson). NOT_FOUND for an id
 * that is no lesson of the tenant; BAD_USER_INPUT for a move the lifecycle does not allow or a
 * blank reason.
 */
export async function moveLessonByPerson(
  uow: UnitOfWork,
  read: (id: string) => Promise<Lesson | null>,
  tenantId: string,
  id: string,
  to: LessonStatus,
  reasonInput: string,
  actor: string,
): Promise<Lesson> {
  const reason = reasonInput.trim();
  if (reason.length === 0 || reason.length > 1000) {
    throw new BadInputError(`reason must be 1 to 1000 characters, but got ${reason.length}`, {
      field: 'reason',
    });
  }
  const lesson = await read(id);
  if (!lesson) throw new NotFoundError('Lesson', id);
  const from = (Object.keys(LESSON_MOVES) as LessonStatus[]).filter((s) =>
    LESSON_MOVES[s].includes(to),
  );
  if (!from.includes(lesson.status)) {
    throw new BadInputError(
      `A lesson cannot go from ${lesson.status} to ${to}; from ${lesson.status} it may go to ${LESSON_MOVES[lesson.status].join(', ') || 'nothing'}`,
      { from: lesson.status, to },
    );
  }
  // It may move between the read and the write: a race (CONFLICT, as for agent versions), so
  // say what it is now.
  const stale = (now: Lesson | null) =>
    new ConflictError(
      `The lesson changed meanwhile and is now ${now?.status ?? 'gone'}; read it and try again`,
    );
  return (await moveLessonTo(uow, tenantId, id, to, reason, actor, from, stale))!;
}
