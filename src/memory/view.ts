import { Role, roleAllows, type Principal } from '../domain/auth.js';
import { MemoryScope } from '../domain/memory.js';
import type { MemoryView } from '../domain/memory-search.js';

/*
 * Whose memories a reader may see (graph/memory/view.ts turns a view into Cypher): an API key,
 * the admin, an agent at work.
 */

export const ALL_SCOPES = [MemoryScope.AGENT, MemoryScope.TASK, MemoryScope.TENANT];

/** The view of the API's admin: every scope, or those named, of every agent and task. */
export function adminView(scopes?: readonly MemoryScope[] | null): MemoryView {
  return { scopes: scopes ? [...scopes] : ALL_SCOPES, agentId: null, taskIds: null };
}

/** An agent at work on a task: the tenant's memories, its own, and those of its tasks. */
export function agentView(agentId: string, taskIds: readonly string[]): MemoryView {
  return { scopes: ALL_SCOPES, agentId, taskIds: [...new Set(taskIds)] };
}

/**
 * What an API key reads of memory: all of it for an ADMIN key; the tenant's shared memory
 * (TENANT episodes, and what was learned from them) for other keys.
 */
export function keyView(principal: Principal | null): MemoryView {
  const admin = principal !== null && roleAllows(principal.role, Role.ADMIN);
  return adminView(admin ? null : [MemoryScope.TENANT]);
}
