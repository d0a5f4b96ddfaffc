import { AsyncLocalStorage } from 'node:async_hooks';

/** The mutation being run, so the unit of work can audit it inside its own transaction. */
export interface AuditScope {
  tenantId: string;
  operation: string;
  actor: string;
  actorKeyId: string;
  targetIds: Set<string>;
  /** Set once the SUCCESS event has been committed with the mutation's own writes. */
  written: boolean;
}

export const auditScope = new AsyncLocalStorage<AuditScope>();

/** Ids a mutation touches: every string under a key named id, ...Id or ...Ids, at any depth. */
export function collectIds(value: unknown, into: Set<string> = new Set(), key = ''): Set<string> {
  if (typeof value === 'string') {
    if (key === 'tenantId') return into;
    if (key === 'id' || key.endsWith('Id') || key.endsWith('Ids')) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectIds(item, into, key);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectIds(v, into, k);
  }
  return into;
}
