import { oneCycle } from '../domain/cycles.js';
import { BadInputError } from '../domain/errors.js';
import { LIMITS, listOfAtMost } from '../domain/validate.js';

/* How a createTasks batch refers to itself, and the shapes it may not take. */

/**
 * Maps each key of the batch to the new id at its position: refuses a key given twice, and
 * on lookup a key no task of the batch has.
 */
export function keyResolver(
  inputs: readonly { key?: string | null }[],
  newIds: readonly string[],
): (key: string, field: string) => string {
  const ids = new Map<string, string>();
  inputs.forEach((input, i) => {
    if (!input.key) return;
    if (ids.has(input.key))
      throw new BadInputError(`The key "${input.key}" appears twice in this batch`);
    ids.set(input.key, newIds[i]!);
  });
  return (key, field) => {
    const id = ids.get(key);
    if (id === undefined) {
      throw new BadInputError(`${field} names the key "${key}", but no task in this batch has it`);
    }
    return id;
  };
}

/** The parent by key or by id; both is refused (the key used to win, the id was dropped). */
export function parentOf(
  input: { parentId?: string | null; parentKey?: string | null },
  byKey: (key: string, field: string) => string,
): string | null {
  if (input.parentKey && input.parentId != null) {
    throw new BadInputError('parentId and parentKey both name a parent: give one of them');
  }
  return input.parentKey ? byKey(input.parentKey, 'parentKey') : (input.parentId ?? null);
}

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
  // The cycle alone: tasks that merely wait for it are not on it.
  const cycle = oneCycle(new Map(tasks.map((t) => [t.id, t.dependsOn])));
  if (!cycle) return;
  const titles = cycle.map((id) => `"${tasks.find((t) => t.id === id)!.title}"`);
  throw new BadInputError(
    cycle.length === 1
      ? `This task depends on itself: ${titles[0]}`
      : `These tasks depend on each other in a cycle: ${titles.join(', ')}`,
  );
}

/**
 * The tasks an input depends on, by id and by key: a task named twice is one dependency (two
 * edges listed it twice), and both lists together hold at most LIMITS.dependencies.
 */
export function dependencies(
  input: { dependsOn?: string[] | null; dependsOnKeys?: string[] | null },
  byKey: (key: string, field: string) => string,
): string[] {
  const ids = listOfAtMost('dependsOn', input.dependsOn ?? [], LIMITS.dependencies);
  const keys = listOfAtMost('dependsOnKeys', input.dependsOnKeys ?? [], LIMITS.dependencies);
  const all = [...new Set([...ids, ...keys.map((k) => byKey(k, 'dependsOnKeys'))])];
  if (all.length > LIMITS.dependencies)
    throw new BadInputError(
      `dependsOn and dependsOnKeys may name at most ${LIMITS.dependencies} tasks together, but name ${all.length}`,
      { field: 'dependsOn' },
    );
  return all;
}
