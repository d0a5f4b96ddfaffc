import { efficacyCounts, lessonById, lessonLinks } from '../../../graph/lesson.repository.js';
import { transitionsOf } from '../../../graph/transition.repository.js';
import { LessonStatus, type Lesson } from '../../domain/lesson.js';
import type { Transition } from '../../domain/transition.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { asEfficacy, moveLessonByPerson } from './lifecycle.js';
import type { Efficacy } from './stats.js';

/** What people read of lessons and do to them (issue 12). */
export class LessonService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Each knowledge item's efficacy, in the order of `ids`. */
  async efficacy(tenantId: string, ids: readonly string[]): Promise<Efficacy[]> {
    const counts = await this.uow.read((tx) => efficacyCounts(tx, tenantId, ids));
    return ids.map((id) => asEfficacy(counts.get(id)!));
  }

  /** Each item's DERIVED_FROM runs and APPLIED_IN count, in the order of `ids`. */
  async links(tenantId: string, ids: readonly string[]) {
    const links = await this.uow.read((tx) => lessonLinks(tx, tenantId, ids));
    return ids.map((id) => links.get(id) ?? { derivedFrom: [], appliedRuns: 0 });
  }

  transitions(tenantId: string, id: string): Promise<Transition[]> {
    return this.uow.read((tx) => transitionsOf(tx, tenantId, id));
  }

  /** retireLesson: CANDIDATE or ACTIVE -> RETIRED, with the person's reason. */
  retire(tenantId: string, id: string, reason: string, actor: string): Promise<Lesson> {
    return this.move(tenantId, id, LessonStatus.RETIRED, reason, actor);
  }

  /** activateLesson: CANDIDATE or RETIRED -> ACTIVE, with the person's reason. */
  activate(tenantId: string, id: string, reason: string, actor: string): Promise<Lesson> {
    return this.move(tenantId, id, LessonStatus.ACTIVE, reason, actor);
  }

  private async move(
    tenantId: string,
    id: string,
    to: LessonStatus,
    reason: string,
    actor: string,
  ): Promise<Lesson> {
    const read = (lessonId: string) => this.uow.read((tx) => lessonById(tx, tenantId, lessonId));
    return moveLessonByPerson(this.uow, read, tenantId, id, to, reason, actor);
  }
}
