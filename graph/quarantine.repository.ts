import type { Tx } from './cypher.js';

/** Quarantine: setting aside a node the mappers cannot read, so no engine loop trips on it again. */

export interface QuarantinedNode {
  tenantId: string | null;
  id: string | null;
  /** False when an earlier call had quarantined it already (log and announce only once). */
  first: boolean;
}

/**
 * Takes a node the mappers cannot read out of every engine loop, keeping its data for a person
 * to inspect: it gains the :Quarantined label, `quarantinedAt` and `quarantineReason`. A task
 * becomes FAILED (its previous status kept in `quarantinedFrom`, its lease and waitingReason
 * dropped), so no claim, promotion or lease sweep picks it again and its workflow settles; an
 * agent becomes inactive, so it is never a candidate. Found by element id: the bad property may
 * be the id itself.
 */
export async function quarantineNode(
  tx: Tx,
  label: 'Task' | 'Agent',
  elementId: string,
  reason: string,
): Promise<QuarantinedNode | null> {
  const effect =
    label === 'Task'
      ? `n.quarantinedFrom = coalesce(n.quarantinedFrom, CASE WHEN n.status IS :: STRING THEN n.status END), n.status = 'FAILED',
         n.error = 'quarantined: ' + $reason, n.leaseOwner = null, n.leaseExpiresAt = null,
         n.nextAttemptAt = null, n.waitingReason = null`
      : 'n.active = false';
  const [row] = await tx.run<{ tenantId: unknown; id: unknown; first: boolean }>({
    cypher: `
      MATCH (n:${label}) WHERE elementId(n) = $elementId
      WITH n, NOT n:Quarantined AS first
      SET n:Quarantined, n.quarantinedAt = coalesce(n.quarantinedAt, datetime()),
          n.quarantineReason = $reason, ${effect}
      RETURN n.tenantId AS tenantId, n.id AS id, first`,
    params: { elementId, reason },
  });
  if (!row) return null;
  return {
    tenantId: typeof row.tenantId === 'string' ? row.tenantId : null,
    id: typeof row.id === 'string' ? row.id : null,
    first: row.first,
  };
}
