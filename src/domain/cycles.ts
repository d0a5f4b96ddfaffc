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
 * first (n log n: the ids ranked once, the free ones in a heap). Ids blocked by a cycle come
 * last, in the map's order.
 */
export function dependencyOrder(
  dependsOn: ReadonlyMap<string, readonly string[]>,
  compare: (a: string, b: string) => number,
): string[] {
  const ranked = [...dependsOn.keys()].sort(compare);
  const order = freeOrder(dependsOn, new Map(ranked.map((id, i) => [id, i])));
  const freed = new Set(order);
  return [...order, ...[...dependsOn.keys()].filter((id) => !freed.has(id))];
}

/** The ids in the order Kahn's algorithm frees them: the lowest `rank` first, or any. */
function freeOrder(
  dependsOn: ReadonlyMap<string, readonly string[]>,
  rank?: ReadonlyMap<string, number>,
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
  const free = freeIds(rank);
  for (const [id, n] of waitingFor) if (n === 0) free.push(id);
  const order: string[] = [];
  for (let id = free.take(); id !== undefined; id = free.take()) {
    order.push(id);
    for (const next of dependants.get(id) ?? []) {
      const n = waitingFor.get(next)! - 1;
      waitingFor.set(next, n);
      if (n === 0) free.push(next);
    }
  }
  return order;
}

/** The ids free to go: a binary heap by `rank` (lowest first), or a stack without ranks. */
function freeIds(rank?: ReadonlyMap<string, number>) {
  const heap: string[] = [];
  const below = (i: number, j: number) => rank!.get(heap[i]!)! < rank!.get(heap[j]!)!;
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!]);
  return {
    push(id: string) {
      heap.push(id);
      for (let i = heap.length - 1; rank && i > 0 && below(i, (i - 1) >> 1); i = (i - 1) >> 1) {
        swap(i, (i - 1) >> 1);
      }
    },
    take(): string | undefined {
      if (!rank || heap.length < 2) return heap.pop();
      const top = heap[0];
      heap[0] = heap.pop()!;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < heap.length && below(l, m)) m = l;
        if (r < heap.length && below(r, m)) m = r;
        if (m === i) return top;
        swap(i, m);
        i = m;
      }
    },
  };
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

/** A task of a workflow as the engine orders it: its parent and what it depends on. */
export interface WaitingTask {
  id: string;
  parentId: string | null;
  dependsOn: readonly string[];
}

/**
 * A dependency that makes its workflow wait for itself, or null. A task starts after its
 * dependencies end and its parent starts, and ends after it starts and its steps end; a cycle
 * of those waits always holds a dependency (parents alone are a tree), and that one is
 * returned. Ids outside `tasks` are ignored: a person may end them.
 */
export function selfWaitingDependency(
  tasks: readonly WaitingTask[],
): { from: string; to: string } | null {
  const inside = new Set(tasks.map((t) => t.id));
  const waits = new Map<string, string[]>();
  for (const t of tasks) {
    const start = [...t.dependsOn.filter((d) => inside.has(d)).map((d) => `end ${d}`)];
    if (t.parentId !== null && inside.has(t.parentId)) start.push(`start ${t.parentId}`);
    waits.set(`start ${t.id}`, start);
    if (!waits.has(`end ${t.id}`)) waits.set(`end ${t.id}`, []);
    waits.get(`end ${t.id}`)!.push(`start ${t.id}`);
    if (t.parentId !== null && inside.has(t.parentId)) {
      const parentEnd = waits.get(`end ${t.parentId}`);
      if (parentEnd) parentEnd.push(`end ${t.id}`);
      else waits.set(`end ${t.parentId}`, [`end ${t.id}`]);
    }
  }
  const cycle = oneCycle(waits);
  if (!cycle) return null;
  for (const [i, node] of cycle.entries()) {
    const next = cycle[(i + 1) % cycle.length]!;
    if (node.startsWith('start ') && next.startsWith('end ')) {
      return { from: node.slice('start '.length), to: next.slice('end '.length) };
    }
  }
  return null; // unreachable: a cycle of parents alone is refused where parents are written
}
