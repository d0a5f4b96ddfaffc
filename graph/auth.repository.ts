import type { ApiKey, Principal, Role, Tenant } from '../src/domain/auth.js';
import type { Page, PageRequest } from '../src/domain/page.js';
import type { Tx } from './cypher.js';
import { toApiKey, toTenant } from './mappers.js';
import { readPage, type NodeLike } from './page.js';

/** The tenant `$id` as `t`, made (named `$name`) if it does not exist yet. */
export const MERGE_TENANT = `
      MERGE (t:Tenant {id: $id})
        ON CREATE SET t.name = $name, t.tenantId = $id, t.createdAt = datetime()`;

/** Creates the tenant if it does not exist yet (idempotent). */
export async function ensureTenant(tx: Tx, id: string, name: string): Promise<Tenant> {
  const [row] = await tx.run<{ t: NodeLike }>({
    cypher: `${MERGE_TENANT}
      RETURN t`,
    params: { id, name },
  });
  return toTenant(row!.t);
}

export async function tenantById(tx: Tx, id: string): Promise<Tenant | null> {
  const [row] = await tx.run<{ t: NodeLike }>({
    cypher: 'MATCH (t:Tenant {id: $id}) RETURN t',
    params: { id },
  });
  return row ? toTenant(row.t) : null;
}

export interface NewApiKey {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  hash: string;
  prefix: string;
}

/** Stores a key by its hash; MERGE makes a repeated bootstrap of the same key a no-op. */
export async function createApiKey(tx: Tx, key: NewApiKey): Promise<ApiKey> {
  const [row] = await tx.run<{ k: NodeLike }>({
    cypher: `
      MERGE (k:ApiKey {hash: $hash})
        ON CREATE SET k.id = $id, k.tenantId = $tenantId, k.name = $name, k.role = $role,
                      k.prefix = $prefix, k.createdAt = datetime()
      RETURN k`,
    params: { ...key },
  });
  return toApiKey(row!.k);
}

/** The key with this hash, in any tenant, revoked or not: authentication's one lookup. */
export async function apiKeyByHash(tx: Tx, hash: string): Promise<ApiKey | null> {
  const [row] = await tx.run<{ k: NodeLike }>({
    cypher: 'MATCH (k:ApiKey {hash: $hash}) RETURN k',
    params: { hash },
  });
  return row ? toApiKey(row.k) : null;
}

export async function touchApiKey(tx: Tx, id: string): Promise<void> {
  await tx.run({
    cypher: 'MATCH (k:ApiKey {id: $id}) SET k.lastUsedAt = datetime()',
    params: { id },
  });
}

/**
 * Revokes a key of the tenant; null when there is no such key. Revoking twice is harmless.
 * The tenant's last active ADMIN key is left as it is (`lastAdmin`): with it gone nobody could
 * administer the tenant again. The active ADMIN keys are locked in id order before they are
 * counted, so two revocations at once cannot each leave the other to be the last.
 */
export async function revokeApiKey(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<{ key: ApiKey; lastAdmin: boolean } | null> {
  const [row] = await tx.run<{ k: NodeLike; lastAdmin: boolean }>({
    cypher: `
      MATCH (k:ApiKey {tenantId: $tenantId, id: $id})
      OPTIONAL MATCH (a:ApiKey {tenantId: $tenantId})
        WHERE a.role = 'ADMIN' AND (a.revokedAt IS NULL OR a = k)
      WITH k, a ORDER BY a.id
      FOREACH (locked IN CASE WHEN a IS NULL THEN [] ELSE [a] END | SET locked:ApiKey)
      WITH k, collect(a) AS admins
      WITH k, k.role = 'ADMIN' AND k.revokedAt IS NULL
        AND none(a IN admins WHERE a <> k AND a.revokedAt IS NULL) AS lastAdmin
      FOREACH (_ IN CASE WHEN lastAdmin THEN [] ELSE [1] END |
        SET k.revokedAt = coalesce(k.revokedAt, datetime()))
      RETURN k, lastAdmin`,
    params: { tenantId, id },
  });
  return row ? { key: toApiKey(row.k), lastAdmin: row.lastAdmin } : null;
}

export function listApiKeys(tx: Tx, tenantId: string, page: PageRequest): Promise<Page<ApiKey>> {
  return readPage(
    tx,
    {
      label: 'ApiKey',
      conditions: [],
      params: { tenantId },
      sort: { property: 'createdAt', descending: false },
      page,
    },
    toApiKey,
  );
}

export function principalOf(key: ApiKey): Principal {
  return { keyId: key.id, keyName: key.name, tenantId: key.tenantId, role: key.role };
}
