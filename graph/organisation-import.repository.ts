import type { Tx } from './cypher.js';
import { ensureSecret } from './secret.repository.js';

/** What an import reads and marks besides its nodes: the signing secret and its tasks' marks. */

/** The secret that signs exported documents (see organisationSignature). */
export const organisationSecret = (tx: Tx) => ensureSecret(tx, 'organisation');

/** The task `t` waits for a tool-call request still PENDING. */
const HOLDS_CALLS = `EXISTS { (t)<-[:FOR]-(:ToolCallRequest {status: 'PENDING'}) }`;

/**
 * Which of these tasks of the tenant wait for a PENDING tool-call request: before an import's
 * writes, the steps AWAITING_INPUT it keeps waiting rather than bring back READY (below).
 */
export async function tasksHoldingCalls(
  tx: Tx,
  tenantId: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.run<{ id: string }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id)
      WITH t WHERE ${HOLDS_CALLS}
      RETURN t.id AS id`,
    params: { tenantId, ids },
  });
  return new Set(rows.map((r) => r.id));
}

/**
 * After an import, in one statement over these tasks:
 * - marks which are roots (no SUBTASK_OF or REJECTED_STEP_OF parent): a document's `root` may
 *   be missing (an older export) or wrong for its edges;
 * - makes READY each orchestrated one AWAITING_INPUT with no PENDING tool-call request, as
 *   resolveToolCall does once none is PENDING: the export leaves held calls and checkpoints out,
 *   so it would wait for good. Its held attempt was not counted; it runs again from its
 *   checkpoint if one is left, else from the start.
 */
export async function settleImportedTasks(tx: Tx, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $ids AS id
      MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id)
      SET t.root = CASE WHEN NOT EXISTS { (t)-[:SUBTASK_OF|REJECTED_STEP_OF]->() } THEN true END
      WITH t WHERE t.status = 'AWAITING_INPUT' AND t.orchestrated = true AND NOT ${HOLDS_CALLS}
      SET t.status = 'READY', t.waitingReason = null, t.error = null, t.leaseOwner = null,
          t.leaseExpiresAt = null, t.updatedAt = datetime()`,
    params: { tenantId, ids },
  });
}

/** A named node of a document (Agent and Capability names are unique per organisation). */
export interface NamedRow {
  index: number;
  label: 'Agent' | 'Capability';
  name: string;
}

/**
 * The index of the first row whose name a node of its label in the tenant holds, other than
 * the nodes `except` (the document's own); null when none does. Read after a refused import,
 * to name the node whose name was taken.
 */
export async function firstNameTaken(
  tx: Tx,
  tenantId: string,
  rows: NamedRow[],
  except: string[],
): Promise<number | null> {
  if (rows.length === 0) return null;
  const [row] = await tx.run<{ index: number }>({
    cypher: `
      UNWIND $rows AS row
      CALL (row) {
        WITH row WHERE row.label = 'Agent'
        MATCH (n:Agent {tenantId: $tenantId, name: row.name}) WHERE NOT n.id IN $except
        RETURN n
        UNION
        WITH row WHERE row.label = 'Capability'
        MATCH (n:Capability {tenantId: $tenantId, name: row.name}) WHERE NOT n.id IN $except
        RETURN n
      }
      RETURN row.index AS index ORDER BY index LIMIT 1`,
    params: { tenantId, rows, except },
  });
  return row ? Number(row.index) : null;
}
