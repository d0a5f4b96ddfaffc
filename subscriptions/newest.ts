/**
 * For one subscription: whether an event about an entity is at least as new as the newest one
 * already delivered for it, by the entity's version (bumped by every write that locks it).
 * Events of one task written by two processes can reach the bus out of commit order: a worker
 * claimed a step and published IN_PROGRESS before the promoting process's READY arrived, and a
 * subscriber heard the step go back to READY (round 36 of 2026-12-02). Such an older event is
 * left out; one of equal version keeps its place. Remembers the `max` entities heard last.
 */
export function newestOnly(max = 10_000): (id: string, version: number) => boolean {
  const newest = new Map<string, number>();
  return (id, version) => {
    const seen = newest.get(id);
    if (seen !== undefined && version < seen) return false;
    newest.delete(id); // re-inserted last: the map's order is the order heard
    newest.set(id, version);
    if (newest.size > max) newest.delete(newest.keys().next().value!);
    return true;
  };
}
