import type { Tx } from './cypher.js';

/**
 * (:Instance) nodes: the API and worker processes running against this database and the event
 * bus each uses, renewed by a heartbeat. Not tenant data: one per process.
 */
export interface Instance {
  id: string;
  role: 'api' | 'worker';
  /** 'redis' (REDIS_URL) or 'in-process'. */
  bus: string;
  startedAt: number;
  seenAt: number;
}

export async function announceInstance(tx: Tx, instance: Instance): Promise<void> {
  await tx.run({
    cypher: `MERGE (i:Instance {id: $id})
      SET i.role = $role, i.bus = $bus, i.startedAt = $startedAt, i.seenAt = $seenAt`,
    params: { ...instance },
  });
}

export async function touchInstance(tx: Tx, id: string, seenAt: number): Promise<void> {
  await tx.run({
    cypher: 'MATCH (i:Instance {id: $id}) SET i.seenAt = $seenAt',
    params: { id, seenAt },
  });
}

/** The other instances seen since `since`, oldest first. */
export async function otherInstances(tx: Tx, id: string, since: number): Promise<Instance[]> {
  const rows = await tx.run<{ i: Instance }>({
    cypher: `MATCH (i:Instance) WHERE i.id <> $id AND i.seenAt >= $since
      RETURN i {.id, .role, .bus, .startedAt, .seenAt} AS i ORDER BY i.startedAt`,
    params: { id, since },
  });
  return rows.map((r) => r.i);
}

export async function removeInstance(tx: Tx, id: string): Promise<void> {
  await tx.run({ cypher: 'MATCH (i:Instance {id: $id}) DELETE i', params: { id } });
}
