import type { Tx } from './cypher.js';

/** Labels whose ids `unknownIds` may check: the only names spliced into its Cypher. */
const CHECKABLE = ['Agent', 'Task', 'Conversation', 'Knowledge', 'Document'] as const;
export type CheckableLabel = (typeof CHECKABLE)[number];

/** The ids among `ids` that name no node of `label` in the tenant, in the order given. */
export async function unknownIds(
  tx: Tx,
  tenantId: string,
  label: CheckableLabel,
  ids: readonly string[],
): Promise<string[]> {
  if (!CHECKABLE.includes(label)) throw new Error(`not a checkable label: ${label}`);
  if (ids.length === 0) return [];
  const rows = await tx.run<{ id: string }>({
    cypher: `
      UNWIND $ids AS id
      OPTIONAL MATCH (n:${label} {tenantId: $tenantId, id: id}) USING INDEX SEEK n:${label}(id)
      WITH id, n WHERE n IS NULL
      RETURN id`,
    params: { tenantId, ids: [...new Set(ids)] },
  });
  const missing = new Set(rows.map((r) => r.id));
  return ids.filter((id) => missing.has(id));
}
