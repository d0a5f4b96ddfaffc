/**
 * What the engine's statements share. The engine is a system component: it works across
 * tenants, and every write keeps the tenant of the task it touches.
 */

/** The statuses in which a task has ended, as a Cypher list. */
export const FINISHED = "['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']";

/** Which tenants a scheduler serves: null means all (the default); a list dedicates it. */
export type TenantScope = string[] | null;

/** The predicate that keeps a statement to the scheduler's tenants (`$tenants`). */
export const IN_SCOPE = (v: string) => `($tenants IS NULL OR ${v}.tenantId IN $tenants)`;
