import { randomUUID } from 'node:crypto';
import type { Graph } from '../../graph/graph.js';
import { createLesson, moveLesson } from '../../graph/lesson.repository.js';
import { markApplied } from '../../graph/memory/applied.repository.js';
import { LessonStatus } from '../../src/domain/lesson.js';

/**
 * A lesson of one tenant as the learning loop leaves it (issue 12): ACTIVE, scoped, DERIVED_FROM
 * one run and APPLIED_IN the other; its text holds `label`. Returns its id.
 */
export async function seedLesson(
  graph: Graph,
  tenantId: string,
  label: string,
  runs: readonly [string, string],
): Promise<string> {
  const id = randomUUID();
  await graph.write(async (tx) => {
    await createLesson(tx, {
      id,
      tenantId,
      content: `Always cite ${label} sources.`,
      capability: `${label.replace(/ /g, '-')}-research`,
      family: 'tenancy-lessons',
      runIds: [runs[0]],
    });
    await moveLesson(tx, tenantId, id, [LessonStatus.CANDIDATE], LessonStatus.ACTIVE);
    await markApplied(tx, tenantId, runs[1], [{ label: 'Knowledge', id }]);
  });
  return id;
}
