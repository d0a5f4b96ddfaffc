import { randomBytes } from 'node:crypto';
import type { Tx } from './cypher.js';

/**
 * The secret that signs page cursors when CURSOR_SECRET is not set: created once, by whichever
 * API instance comes first, and kept in the graph so that every instance of it shares it.
 * The (:Secret) node has no tenant, so no tenant's reads, exports or searches reach it.
 */
export async function ensureCursorSecret(tx: Tx): Promise<string> {
  const [row] = await tx.run<{ value: string }>({
    cypher: `
      MERGE (s:Secret {name: 'cursor'})
        ON CREATE SET s.value = $value, s.createdAt = datetime()
      RETURN s.value AS value`,
    params: { value: randomBytes(32).toString('base64url') },
  });
  return row!.value;
}
