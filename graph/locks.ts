/**
 * How a statement takes a node's write lock (check-then-write, docs/architecture.md).
 *
 * Re-setting a label the node already has takes its write lock and changes nothing; the
 * counter is then read under that lock and written from a variable. The obvious form,
 * `SET n.version = n.version + 1`, takes the lock another way on Neo4j 5.26: a transaction that
 * locked a node so and then touched it again (a relationship created on it, another
 * `n.p = n.p + 1`, in that statement or a later one) deadlocked with every writer that was
 * waiting for the node. Four workers claiming one READY task deadlocked in about one round in
 * ten, and a lock followed by a new relationship in about half of them; with this form, none
 * (test/engine-deadlocks.int.test.ts). One difference: when a transaction that held the lock
 * deleted the node, the label SET cannot load it (EntityNotFound) where the property SET went
 * on unseen; Graph.retrying starts such a transaction again, and its match then finds nothing.
 */
export function lockAndBump(v: string, label: string, counter = 'version'): string {
  const seen = `${v}_${counter}`;
  return `SET ${v}:${label} WITH *, ${v}.${counter} AS ${seen} SET ${v}.${counter} = coalesce(${seen}, 0) + 1`;
}
