/**
 * For one subscription: whether an event about an entity is newer than every one already
 * delivered for it, by the entity's event number (a task's `seq`: sequence.ts). The bus keeps
 * a task's events in order across processes, waiting a bounded time for a late one; one that
 * comes later still (its writer died before publishing it, and a relay brought it), or a second
 * copy of one delivered, is left out: a task never goes back. Remembers the `max` entities
 * heard last.
 */
export function newestOnly(max = 10_000): (id: string, seq: number) => boolean {
  const newest = new Map<string, number>();
  return (id, seq) => {
    const seen = newest.get(id);
    if (seen !== undefined && seq <= seen) return false;
    newest.delete(id); // re-inserted last: the map's order is the order heard
    newest.set(id, seq);
    if (newest.size > max) newest.delete(newest.keys().next().value!);
    return true;
  };
}
