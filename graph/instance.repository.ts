import type { Tx } from './cypher.js';

/**
 * (:Instance) nodes: the API and worker processes running against this database and the event
 * bus each uses, renewed by a heartbeat. Not tenant data: one per process. Times are the
 * database's (`timestamp()`): processes on machines whose clocks differ compare them.
 */
export interface Instance {
  id: string;
  role: 'api' | 'worker';
  /** 'redis' (REDIS_URL) or 'in-process'. */
  bus: string;
  /**
   * Which Redis bus, without credentials (`busIdentity`): null in-process, and in a record a
   * version before it left (any Redis then passes).
   */
  redis: string | null;
  startedAt: number;
  seenAt: number;
}

export async function announceInstance(
  tx: Tx,
  instance: Omit<Instance, 'startedAt' | 'seenAt'>,
): Promise<void> {
  await tx.run({
    cypher: `MERGE (i:Instance {id: $id})
      SET i.role = $role, i.bus = $bus, i.redis = $redis,
        i.startedAt = timestamp(), i.seenAt = timestamp()`,
    params: { ...instance },
  });
}

export async function touchInstance(tx: Tx, id: string): Promise<void> {
  await tx.run({
    cypher: 'MATCH (i:Instance {id: $id}) SET i.seenAt = timestamp()',
    params: { id },
  });
}

/** The other instances seen in the last `withinMs`, oldest first. */
export async function otherInstances(tx: Tx, id: string, withinMs: number): Promise<Instance[]> {
  const rows = await tx.run<{ i: Instance }>({
    cypher: `MATCH (i:Instance) WHERE i.id <> $id AND i.seenAt >= timestamp() - $withinMs
      RETURN i {.id, .role, .bus, .redis, .startedAt, .seenAt} AS i ORDER BY i.startedAt`,
    params: { id, withinMs },
  });
  return rows.map((r) => r.i);
}

export async function removeInstance(tx: Tx, id: string): Promise<void> {
  await tx.run({ cypher: 'MATCH (i:Instance {id: $id}) DELETE i', params: { id } });
}
