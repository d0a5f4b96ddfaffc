import type { Tx } from './cypher.js';
import { ensureSecret } from './secret.repository.js';

/** What an import reads and marks besides its nodes: the signing secret and its tasks' marks. */

/** The secret that signs exported documents (see organisationSignature). */
export const organisationSecret = (tx: Tx) => ensureSecret(tx, 'organisation');

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
      WITH t WHERE t.status = 'AWAITING_INPUT' AND t.orchestrated = true
        AND NOT EXISTS { (t)<-[:FOR]-(:ToolCallRequest {status: 'PENDING'}) }
      SET t.status = 'READY', t.waitingReason = null, t.error = null, t.leaseOwner = null,
          t.leaseExpiresAt = null, t.updatedAt = datetime()`,
    params: { tenantId, ids },
  });
}
