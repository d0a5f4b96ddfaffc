/**
 * The READY queue's head as claims read it (claim.repository.ts): what a step must be to be
 * claimed, the claim order's ranks, and how a claim's picks are dealt between tenants.
 */
import { byTurns } from './engine-scope.js';

/**
 * What a claim may take, checked again under the task's lock: a leaf step (a running parent is
 * not a step; a task that needs a plan is, until its plan has run) whose parent, if any, still
 * runs. Settling locks the children before it reads them, so a step claimed under a parent
 * that is ending is cancelled with its run, and a step of an ended parent is never claimed.
 * The far ends carry no label (SUBTASK_OF joins tasks only): with one, the planner may scan
 * every task's status index and expand into each candidate, a plan whose work grows with the
 * whole database. A CASE, not an OR: the planner split the OR into a union of two index reads,
 * which lost their order and read every READY step of the tenant, twice, to take the head
 * (test/claim-order.int.test.ts).
 */
export const CLAIMABLE = `CASE WHEN t.needsPlan = true THEN true ELSE NOT EXISTS { (t)<-[:SUBTASK_OF]-() } END
  AND NOT EXISTS { (t)-[:SUBTASK_OF]->(p) WHERE p.status <> 'IN_PROGRESS' }`;

/**
 * Past any retry backoff. Not an OR, for the reason CLAIMABLE is not: on a database of few
 * tasks the planner split it into two index reads and sorted their union (CI, issue 15).
 */
export const DUE = 'coalesce(t.nextAttemptAt <= datetime(), true)';

/** The claim order's priority ranks, highest first (the domain's TaskPriority values). */
export const PRIORITIES = ['URGENT', 'HIGH', 'MEDIUM', 'LOW'];

/** How many times `limit` the head window holds that a claim picks from at random. */
export const SPREAD = 4;

/**
 * The oldest `$window` claimable steps of the priority rank bound as `rank`: of every tenant,
 * or of the one bound as `tenantId`, by an index in claim order (migration 23), so a claim reads
 * about `window` rows per rank instead of sorting every READY step in the database. A SEEK
 * hint: a plain one let the planner scan the whole index (every task) and filter it.
 */
const rankHead = (ofTenant: boolean) => `
    MATCH (t:Task)
    USING INDEX SEEK t:Task(${ofTenant ? 'tenantId, ' : ''}status, orchestrated, priority, createdAt)
    WHERE ${ofTenant ? 't.tenantId = tenantId AND ' : ''}t.status = 'READY' AND t.orchestrated = true
      AND t.priority = $priorities[rank] AND t.createdAt IS NOT NULL
      AND ${DUE} AND ${CLAIMABLE}
    // All the index's properties, though all but the last are fixed here: only then does the
    // planner read the index in order and stop at the window (else it sorts every READY step).
    RETURN t ORDER BY ${ofTenant ? 't.tenantId, ' : ''}t.status, t.orchestrated, t.priority, t.createdAt
    LIMIT $window`;

/** The head of the READY queue: per priority rank (and per tenant for a dedicated scheduler). */
export const queueHead = (scoped: boolean) => `
  UNWIND range(0, size($priorities) - 1) AS rank
  ${scoped ? 'UNWIND $tenants AS tenantId' : ''}
  CALL (rank${scoped ? ', tenantId' : ''}) { ${rankHead(scoped)} }`;

/**
 * A claimer's place in the round robin over tenants (a claim for all tenants): the tenant whose
 * queue its last claim read beside the oldest steps. Each claim moves it on; it lives as long
 * as its claimer (a scheduler), and a new one starts from the first tenant.
 */
export interface QueueCursor {
  after: string;
}

/** The first tenant with READY steps `where` (`n.tenantId > $after`, say), bound as `alias`. */
const firstReadyTenant = (alias: string, where: string) => `
  OPTIONAL CALL () {
    MATCH (n:Task) USING INDEX SEEK n:Task(status, orchestrated, tenantId)
    WHERE n.status = 'READY' AND n.orchestrated = true AND ${where}
    RETURN n.tenantId AS ${alias} ORDER BY n.status, n.orchestrated, n.tenantId LIMIT 1
  }`;

/**
 * Serving all tenants: per rank the oldest steps, whoever they belong to, and the head of
 * `next`, the next tenant with READY steps after the cursor's, or the first (round robin; one
 * seek each on migration 39's (status, orchestrated, tenantId)).
 */
const ROUND_ROBIN_HEAD = `
  ${firstReadyTenant('later', 'n.tenantId > $after')}
  ${firstReadyTenant('first', 'n.tenantId IS NOT NULL')}
  WITH coalesce(later, first) AS next
  UNWIND range(0, size($priorities) - 1) AS rank
  CALL (rank) { ${rankHead(false)} }
  WITH rank, next, collect(t) AS oldest
  CALL (rank, next) {
    UNWIND [x IN [next] WHERE x IS NOT NULL] AS tenantId
    CALL (rank, tenantId) { ${rankHead(true)} }
    RETURN collect(t) AS inTurn
  }
  UNWIND oldest + inTurn AS t
  WITH DISTINCT rank, t, next`;

/**
 * What a claim picks from, as rows (t, rank, next): per priority rank, the heads of a dedicated
 * scheduler's tenants, or ROUND_ROBIN_HEAD's; then dealt by turns: per rank, each tenant's steps
 * in random order (the spread), every tenant's first before anyone's second. Oldest first
 * alone, one tenant's backlog held back every step queued after it (test/claim-fairness).
 */
export const fairHead = (scoped: boolean) => `
  ${scoped ? `${queueHead(true)} WITH rank, t, null AS next` : ROUND_ROBIN_HEAD}
  ${byTurns('t', 'rand()', '$limit', 'rank, next')}`;
