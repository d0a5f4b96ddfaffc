import { blockedByCycle, oneCycle } from '../domain/cycles.js';
import { BadInputError } from '../domain/errors.js';

/* The shapes a createTasks batch may not take: the engine could never run or root them. */

/** Refuses a batch whose tasks are each other's ancestors (a tree with no root). */
export function assertNoParentCycle(
  tasks: { id: string; title: string; parentId: string | null }[],
) {
  const cycle = oneCycle(new Map(tasks.map((t) => [t.id, t.parentId ? [t.parentId] : []])));
  if (!cycle) return;
  const titles = cycle.map((id) => `"${tasks.find((t) => t.id === id)!.title}"`);
  throw new BadInputError(
    `These tasks are each other's ancestors: ${titles.join(', ')}; one of them needs no parentKey`,
  );
}

/** Refuses dependency cycles among the tasks of one batch. */
export function assertAcyclic(tasks: { id: string; title: string; dependsOn: string[] }[]) {
  const blocked = new Set(blockedByCycle(new Map(tasks.map((t) => [t.id, t.dependsOn]))));
  if (blocked.size > 0) {
    const titles = tasks.filter((t) => blocked.has(t.id)).map((t) => `"${t.title}"`);
    throw new BadInputError(`These tasks depend on each other in a cycle: ${titles.join(', ')}`);
  }
}
