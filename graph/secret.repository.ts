import { randomBytes } from 'node:crypto';
import type { Tx } from './cypher.js';

/**
 * A server secret by name, created once by whichever API instance comes first and kept in the
 * graph, so every instance and every restart shares it: `cursor` signs page cursors when
 * CURSOR_SECRET is not set, `organisation` signs exported documents. The (:Secret) node has no
 * tenant, so no tenant's reads, exports or searches reach it.
 */
export async function ensureSecret(tx: Tx, name: 'cursor' | 'organisation'): Promise<string> {
  const [row] = await tx.run<{ value: string }>({
    cypher: `
      MERGE (s:Secret {name: $name})
        ON CREATE SET s.value = $value, s.createdAt = datetime()
      RETURN s.value AS value`,
    params: { name, value: randomBytes(32).toString('base64url') },
  });
  return row!.value;
}

export const ensureCursorSecret = (tx: Tx) => ensureSecret(tx, 'cursor');
