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

/**
 * Ids a mutation touches: every string under a key named id, ids, ...Id or ...Ids, at any
 * depth, in document order. Walks with its own stack: a deeply nested argument (an import document
 * thousands of levels deep) overflowed the call stack and turned into a 500.
 */
export function collectIds(value: unknown, into: Set<string> = new Set(), key = ''): Set<string> {
  const stack: [unknown, string][] = [[value, key]];
  while (stack.length > 0) {
    const [item, at] = stack.pop()!;
    if (typeof item === 'string') {
      if (at === 'tenantId') continue;
      // `ids` too: a refused mergeEntities or retryEpisodes was audited with no target.
      if (at === 'id' || at === 'ids' || at.endsWith('Id') || at.endsWith('Ids')) into.add(item);
    } else if (Array.isArray(item)) {
      // Pushed in reverse so they pop in order.
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], at]);
    } else if (item && typeof item === 'object') {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], entries[i]![0]]);
    }
  }
  return into;
}
