import type { Tx } from './cypher.js';
import { ensureSecret } from './secret.repository.js';

/** What an import reads and marks besides its nodes: the signing secret and the roots. */

/** The secret that signs exported documents (see organisationSignature). */
export const organisationSecret = (tx: Tx) => ensureSecret(tx, 'organisation');

/**
 * Marks which of these tasks are roots (no SUBTASK_OF or REJECTED_STEP_OF parent) after an
 * import: a document's `root` may be missing (an older export) or wrong for its edges.
 */
export async function markRoots(tx: Tx, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $ids AS id
      MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id)
      SET t.root = CASE WHEN NOT EXISTS { (t)-[:SUBTASK_OF|REJECTED_STEP_OF]->() } THEN true END`,
    params: { tenantId, ids },
  });
}
