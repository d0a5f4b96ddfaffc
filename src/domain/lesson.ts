/*
 * Lessons (issue 12): short imperative rules the platform draws from runs that failed (or a
 * failure followed by a success), applied to later prompts of their scope, and kept or retired
 * on the evidence of what they did to outcomes.
 */

export enum LessonStatus {
  /** New: applied to a share of runs (EVOLUTION_LESSON_CANDIDATE_SHARE) while evidence accrues. */
  CANDIDATE = 'CANDIDATE',
  /** Shown to help: applied to every run of its scope, best first. */
  ACTIVE = 'ACTIVE',
  /** Shown to hurt, outdated, or retired by a person: never applied again. */
  RETIRED = 'RETIRED',
}

/** The moves a lesson may make (the lifecycle pass and retireLesson/activateLesson). */
export const LESSON_MOVES: Readonly<Record<LessonStatus, readonly LessonStatus[]>> = {
  CANDIDATE: [LessonStatus.ACTIVE, LessonStatus.RETIRED],
  ACTIVE: [LessonStatus.RETIRED],
  RETIRED: [LessonStatus.ACTIVE],
};

export interface Lesson {
  id: string;
  tenantId: string;
  content: string;
  status: LessonStatus;
  /** The capability it is scoped to; null: any. */
  capability: string | null;
  /** The task family it is scoped to; null: any. */
  family: string | null;
  /** How many times it was drawn (near-copies strengthen it). */
  strength: number;
  createdAt: string;
}
