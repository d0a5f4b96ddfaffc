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
  const freed = new Set(freeOrder(dependsOn));
  return [...dependsOn.keys()].filter((id) => !freed.has(id));
}

/**
 * Every id after the ids it depends on; of those free at once, the first by `compare` goes
 * first (a scan of the free ones: for plans and workflows, not for huge graphs). Ids blocked by
 * a cycle come last, in the map's order.
 */
export function dependencyOrder(
  dependsOn: ReadonlyMap<string, readonly string[]>,
  compare: (a: string, b: string) => number,
): string[] {
  const order = freeOrder(dependsOn, compare);
  const freed = new Set(order);
  return [...order, ...[...dependsOn.keys()].filter((id) => !freed.has(id))];
}

/** The ids in the order Kahn's algorithm frees them: the smallest by `compare`, or any. */
function freeOrder(
  dependsOn: ReadonlyMap<string, readonly string[]>,
  compare?: (a: string, b: string) => number,
): string[] {
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
  const take = (): string | undefined => {
    if (!compare || free.length < 2) return free.pop();
    let best = 0;
    for (let i = 1; i < free.length; i++) if (compare(free[i]!, free[best]!) < 0) best = i;
    return free.splice(best, 1)[0];
  };
  const order: string[] = [];
  for (let id = take(); id !== undefined; id = take()) {
    order.push(id);
    for (const next of dependants.get(id) ?? []) {
      const n = waitingFor.get(next)! - 1;
      waitingFor.set(next, n);
      if (n === 0) free.push(next);
    }
  }
  return order;
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
