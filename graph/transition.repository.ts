import { randomUUID } from 'node:crypto';
import type { Transition } from '../src/domain/transition.js';
import type { Tx } from './cypher.js';
import { iso } from './mappers.js';

/*
 * (:Transition)-[:OF]->(:Knowledge|:AgentVersion): every change of state of what the platform
 * evolves, with its reason (issue 12). Written in the transaction that changes the state.
 */

export async function recordTransition(
  tx: Tx,
  t: Omit<Transition, 'id' | 'at'>,
): Promise<Transition | null> {
  const [row] = await tx.run<{ id: string; at: unknown }>({
    cypher: `
      CALL () {
        MATCH (s:Knowledge {id: $subjectId}) WHERE $subjectLabel = 'Knowledge' RETURN s
        UNION MATCH (s:AgentVersion {id: $subjectId}) WHERE $subjectLabel = 'AgentVersion' RETURN s
      }
      WITH s WHERE s.tenantId = $tenantId
      CREATE (x:Transition {id: $id, tenantId: $tenantId, subjectLabel: $subjectLabel,
                            subjectId: $subjectId, from: $from, to: $to, reason: $reason,
                            actor: $actor, at: datetime()})-[:OF]->(s)
      RETURN x.id AS id, x.at AS at`,
    params: { ...t, id: randomUUID() },
  });
  return row ? { ...t, id: row.id, at: iso(row.at) } : null;
}

/** A subject's history, oldest first. */
export async function transitionsOf(
  tx: Tx,
  tenantId: string,
  subjectId: string,
): Promise<Transition[]> {
  const rows = await tx.run<Omit<Transition, 'at'> & { at: unknown; [k: string]: unknown }>({
    cypher: `
      MATCH (x:Transition {tenantId: $tenantId, subjectId: $subjectId})
      RETURN x.id AS id, x.tenantId AS tenantId, x.subjectLabel AS subjectLabel,
             x.subjectId AS subjectId, x.from AS from, x.to AS to, x.reason AS reason,
             x.actor AS actor, x.at AS at
      ORDER BY x.at, x.id`,
    params: { tenantId, subjectId },
  });
  return rows.map((r) => ({ ...r, at: iso(r.at) }));
}
