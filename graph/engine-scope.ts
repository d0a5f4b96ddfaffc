/**
 * What the engine's statements share. The engine is a system component: it works across
 * tenants, and every write keeps the tenant of the task it touches.
 */

/** The statuses in which a task has ended, as a Cypher list. */
export const FINISHED = "['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']";

/** Whether approvePlan removed task `v` from its plan (inPlan in src/domain/task.ts reads it). */
export const REMOVED_FROM_PLAN = (v: string) => `coalesce(${v}.removedFromPlan, false)`;

/** Which tenants a scheduler serves: null means all (the default); a list dedicates it. */
export type TenantScope = string[] | null;

/** The predicate that keeps a statement to the scheduler's tenants (`$tenants`). */
export const IN_SCOPE = (v: string) => `($tenants IS NULL OR ${v}.tenantId IN $tenants)`;

/**
 * Starts a statement at the scheduler's tasks in `statuses`, by index whatever the statistics
 * say: a dedicated scheduler reads its tenants' (tenantId, status) entries, one serving all the
 * status index. Neo4j plans a statement from the statistics it has when first sent: on a
 * near-empty database (a fresh install, CI) one index looks as cheap as another, and a plan
 * reading every tenant's tasks stays cached as the database grows (test/plan-audit.int.test.ts).
 * Ends in a WHERE the caller continues with `AND …`.
 */
export function scopedTasks(v: string, statuses: string[], tenants: TenantScope): string {
  const list = `[${statuses.map((s) => `'${s}'`).join(', ')}]`;
  return tenants === null
    ? `MATCH (${v}:Task) USING INDEX SEEK ${v}:Task(status) WHERE ${v}.status IN ${list}`
    : `UNWIND $tenants AS scoped WITH DISTINCT scoped
      MATCH (${v}:Task) USING INDEX SEEK ${v}:Task(tenantId, status)
      WHERE ${v}.tenantId = scoped AND ${v}.status IN ${list}`;
}

/**
 * Starts a statement at the scope's nodes of `label` whose `due` property is set (reflection's
 * ended runs, the skills pass's roots), from their `(tenantId, due)` index whatever the
 * statistics say: a dedicated worker seeks its tenants' entries, so a tenant nobody reflects on
 * (its runs stay due) costs it nothing; one serving all tenants scans the index, which holds
 * only what is due. Ends in a WHERE the caller continues with `AND …`.
 */
export function scopedDue(v: string, label: string, due: string, tenants: TenantScope): string {
  return tenants === null
    ? `MATCH (${v}:${label}) USING INDEX ${v}:${label}(tenantId, ${due})
      WHERE ${v}.tenantId IS NOT NULL AND ${v}.${due} IS NOT NULL`
    : `UNWIND $tenants AS scoped WITH DISTINCT scoped
      MATCH (${v}:${label}) USING INDEX SEEK ${v}:${label}(tenantId, ${due})
      WHERE ${v}.tenantId = scoped AND ${v}.${due} IS NOT NULL`;
}

/**
 * Orders the rows bound as `v` by `order` within each tenant and deals them out a turn at a
 * time, every tenant's first before anyone's second, at most `limit`: oldest first across
 * tenants, one tenant's backlog held back every other tenant's work behind it. `within` (say
 * `rank`) deals each of its values' rows apart, in its order. `across` orders the tenants
 * within a turn (default `order`). Binds `v`, `within` and `turn`; order by `turn` and `order`
 * again after filtering.
 */
export function byTurns(
  v: string,
  order: string,
  limit: string,
  within?: string,
  across = order,
): string {
  const w = within ? `${within}, ` : '';
  return `
  WITH ${w}${v} ORDER BY ${order}
  WITH ${w}${v}.tenantId AS tenant, collect(${v})[0..${limit}] AS queue
  UNWIND range(0, size(queue) - 1) AS turn
  WITH ${w}queue[turn] AS ${v}, turn ORDER BY ${w}turn, ${across} LIMIT ${limit}`;
}

/**
 * For byTurns' `across`: tenants after `after` (a parameter: the tenant the last claim ended
 * on, or null) first, in id order, then the rest: a round robin across claims. Oldest first,
 * a claim of one slot always went to the tenant with the older backlog.
 */
export const afterCursor = (v: string, after: string) =>
  `coalesce(${v}.tenantId <= ${after}, false), ${v}.tenantId`;

/**
 * The tasks assigned to the agent bound as `agent`, walked from it, binding the assignment as
 * `rel` and the task as `task`; filter them after it. In one pattern with a status filter,
 * where Task statistics said few, the planner scanned every tenant's tasks by status and
 * joined them to the agent (test/id-lookup-cost.int.test.ts).
 */
export const assignmentsOf = (agent: string, rel: string, task: string) =>
  `CALL (${agent}) {
        MATCH (${agent})<-[${rel}:ASSIGNED_TO]-(${task}:Task)
        RETURN ${rel}, ${task}
      }`;
