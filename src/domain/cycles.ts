/**
 * Cycles among things that depend on each other (tasks of a batch, steps of a plan, the edges of
 * an imported organisation). `dependsOn` maps each id to the ids it depends on; ids that are not
 * keys of the map are outside the set and ignored.
 */

/**
 * The ids that never come free (Kahn's algorithm, linear in ids and edges): those on a cycle
 * and those that depend on one, in the map's order. Empty when there is no cycle.
 */
export function blockedByCycle(dependsOn: ReadonlyMap<string, readonly string[]>): string[] {
  const waitingFor = new Map<string, number>();
  const dependants = new Map<string, string[]>();
  for (const [id, deps] of dependsOn) {
    const inside = [...new Set(deps)].filter((d) => dependsOn.has(d));
    waitingFor.set(id, inside.length);
    for (const d of inside) {
      const list = dependants.get(d);
      if (list) list.push(id);
      else dependants.set(d, [id]);
    }
  }
  const free = [...waitingFor].filter(([, n]) => n === 0).map(([id]) => id);
  for (let id = free.pop(); id !== undefined; id = free.pop()) {
    waitingFor.delete(id);
    for (const next of dependants.get(id) ?? []) {
      const n = waitingFor.get(next)! - 1;
      waitingFor.set(next, n);
      if (n === 0) free.push(next);
    }
  }
  return [...waitingFor.keys()];
}

/**
 * One cycle, as ids each depending on the next and the last on the first, or null. Every
 * blocked id depends on another blocked id, so walking those dependencies must come back.
 */
export function oneCycle(dependsOn: ReadonlyMap<string, readonly string[]>): string[] | null {
  const blocked = new Set(blockedByCycle(dependsOn));
  const [start] = blocked;
  if (start === undefined) return null;
  const path: string[] = [];
  const seen = new Map<string, number>();
  let id = start;
  while (!seen.has(id)) {
    seen.set(id, path.length);
    path.push(id);
    id = dependsOn.get(id)!.find((d) => blocked.has(d))!;
  }
  return path.slice(seen.get(id));
}
