import neo4j from 'neo4j-driver';
import {
  BudgetScope,
  type BudgetDefaults,
  type BudgetLimit,
  type BudgetState,
  type BudgetUnit,
} from '../src/domain/budget.js';
import { TaskStatus, type Task } from '../src/domain/task.js';
import type { CypherQuery, Tx } from './cypher.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';
import { MERGE_TENANT } from './auth.repository.js';

/**
 * Budgets are (:Budget {tenantId, scope, targetId}) nodes, unique on the three (migration 10).
 * `usd`/`tokens` absent: the default from the environment; -1: no limit (Neo4j keeps no null).
 * `warnedUsd`/`warnedTokens`: the limit a budgetWarning was last sent for.
 * Spending is read from the :LLMCall totals (tenant, agent, and the root task's whole tree).
 */

/** The error prefix that marks a step waiting for a budget (re-queued by raising one). */
export const BUDGET_WAIT_PREFIX = 'BUDGET_EXCEEDED:';

/** A step waiting for a budget (AWAITING_APPROVAL with the refusal as its error). */
export const isBudgetWait = (t: Pick<Task, 'status' | 'error'>): boolean =>
  t.status === TaskStatus.AWAITING_APPROVAL && !!t.error?.startsWith(BUDGET_WAIT_PREFIX);

/**
 * A call's budgets, and the version of the tenant's budgets they were read at: every setBudget
 * moves it on (lockBudgets), so a step refused at one version and waiting at a later one knows
 * that a raise came between, and re-queues itself as that raise re-queued the steps waiting.
 */
export interface CallBudgets {
  states: BudgetState[];
  version: number;
}

/**
 * Takes the tenant's lock for budgets and moves their version on: setBudget's, held until it
 * commits, so that a step's end that parks it for a budget (budgetVersion) is either waiting
 * when the raise re-queues the waiting steps, or sees the new version.
 */
export async function lockBudgets(tx: Tx, tenantId: string): Promise<void> {
  await tx.run({
    cypher: `${MERGE_TENANT}
      ${lockAndBump('t', 'Tenant', 'budgetVersion')}`,
    params: { id: tenantId, name: tenantId },
  });
}

/**
 * The version of the tenant's budgets under their lock (lockBudgets), not moving it: a step's
 * end that parks the step for a budget takes it before it locks the step, as setBudget does.
 */
export async function budgetVersion(tx: Tx, tenantId: string): Promise<number> {
  const [row] = await tx.run<{ version: number }>({
    cypher: `${MERGE_TENANT}
      SET t:Tenant
      RETURN coalesce(t.budgetVersion, 0) AS version`,
    params: { id: tenantId, name: tenantId },
  });
  return row?.version ?? 0;
}

type Stored = { scope: BudgetScope; targetId: string } & Record<string, number | string | null>;

const limitOf = (stored: Stored | undefined, fallback: BudgetLimit): BudgetLimit => {
  const pick = (key: 'usd' | 'tokens') => {
    const v = stored?.[key];
    if (v === undefined || v === null) return fallback[key];
    return Number(v) < 0 ? null : Number(v);
  };
  return { usd: pick('usd'), tokens: pick('tokens') };
};

const warnedOf = (stored: Stored | undefined): BudgetLimit => ({
  usd: stored?.warnedUsd == null ? null : Number(stored.warnedUsd),
  tokens: stored?.warnedTokens == null ? null : Number(stored.warnedTokens),
});

/**
 * Stored budgets of a call, and its root task: the first read of budgetsForCall. Each is sought
 * by its whole key (a tenant's budget has the tenant as target): by tenantId alone, which the
 * unique (tenantId, scope, targetId) index cannot serve, it read every tenant's budgets.
 */
export function storedBudgetsQuery(
  tenantId: string,
  agentId: string | null,
  taskId: string | null,
): CypherQuery {
  return {
    cypher: `
      OPTIONAL MATCH (t:Task {tenantId: $tenantId, id: $taskId}) USING INDEX SEEK t:Task(id)
      CALL (t) {
        OPTIONAL MATCH (t)-[:SUBTASK_OF*0..]->(r:Task)
        WHERE NOT EXISTS { (r)-[:SUBTASK_OF]->() }
        RETURN r AS root LIMIT 1
      }
      CALL (root) {
        UNWIND [['TENANT', $tenantId], ['AGENT', $agentId], ['TASK', root.id]] AS key
        OPTIONAL MATCH (b:Budget {tenantId: $tenantId, scope: key[0], targetId: key[1]})
        USING INDEX SEEK b:Budget(tenantId, scope, targetId)
        RETURN collect(b {.*}) AS stored
      }
      OPTIONAL MATCH (tenant:Tenant {id: $tenantId})
      RETURN root.id AS rootId, stored, coalesce(tenant.budgetVersion, 0) AS version`,
    params: { tenantId, agentId, taskId },
  };
}

/** The sum of each limited scope; the only text spliced in is this fixed allow-list. */
const SPENT: Record<BudgetScope, string> = {
  TENANT: `CALL () {
        OPTIONAL MATCH (c:LLMCall {tenantId: $tenantId}) USING INDEX SEEK c:LLMCall(tenantId)
        RETURN {tokens: coalesce(sum(c.totalTokens), 0), usd: coalesce(sum(c.costUsd), 0.0)} AS TENANT
      }`,
  AGENT: `CALL () {
        OPTIONAL MATCH (c:LLMCall {tenantId: $tenantId, agentId: $agentId})
        USING INDEX SEEK c:LLMCall(tenantId, agentId)
        RETURN {tokens: coalesce(sum(c.totalTokens), 0), usd: coalesce(sum(c.costUsd), 0.0)} AS AGENT
      }`,
  TASK: `CALL () {
        OPTIONAL MATCH (s:Task {tenantId: $tenantId})-[:SUBTASK_OF*0..]->(root:Task {tenantId: $tenantId, id: $rootId})
        USING INDEX SEEK root:Task(id)
        OPTIONAL MATCH (c:LLMCall {tenantId: $tenantId, taskId: s.id})
        USING INDEX SEEK c:LLMCall(tenantId, taskId)
        RETURN {tokens: coalesce(sum(c.totalTokens), 0), usd: coalesce(sum(c.costUsd), 0.0)} AS TASK
      }`,
};

/** What the limited scopes have spent, from the :LLMCall totals; one statement. */
export function spentQuery(
  tenantId: string,
  ids: { agentId: string | null; rootId: string | null },
  scopes: BudgetScope[],
): CypherQuery {
  return {
    cypher: `${scopes.map((s) => SPENT[s]).join('\n')}\nRETURN ${scopes.join(', ')}`,
    params: { tenantId, ...ids },
  };
}

/**
 * Every budget a model call of this agent for this task counts against (the tenant's, the
 * agent's, the root task's), with what each has spent. A call outside a task (chat) has no
 * task budget. Spending is summed only for budgets with a limit: with none, one light read.
 */
export async function budgetsForCall(
  tx: Tx,
  tenantId: string,
  call: { agentId: string | null; taskId: string | null },
  defaults: BudgetDefaults,
  /** Sum every scope's spending, limited or not (to show a budget). */
  sumAll = false,
): Promise<CallBudgets> {
  const [row] = await tx.run<{ rootId: string | null; stored: Stored[]; version: number }>(
    storedBudgetsQuery(tenantId, call.agentId, call.taskId),
  );
  const version = row?.version ?? 0;
  const rootId = row?.rootId ?? null;
  const stored = row?.stored ?? [];
  const find = (scope: BudgetScope, id: string) =>
    stored.find((b) => b.scope === scope && b.targetId === id);
  const targets: [BudgetScope, string | null, BudgetLimit][] = [
    [BudgetScope.TENANT, tenantId, defaults.tenant],
    [BudgetScope.AGENT, call.agentId, defaults.agent],
    [BudgetScope.TASK, rootId, defaults.task],
  ];
  const states: BudgetState[] = [];
  for (const [scope, id, fallback] of targets) {
    if (!id) continue;
    const limit = limitOf(find(scope, id), fallback);
    const warned = warnedOf(find(scope, id));
    states.push({ scope, targetId: id, limit, warned, spent: { usd: 0, tokens: 0 } });
  }
  const limited = states.filter((s) => sumAll || s.limit.usd !== null || s.limit.tokens !== null);
  if (limited.length === 0) return { states, version };
  const [spent] = await tx.run<Record<string, { tokens: number; usd: number }>>(
    spentQuery(
      tenantId,
      { agentId: call.agentId, rootId },
      limited.map((s) => s.scope),
    ),
  );
  for (const s of limited) {
    const sum = spent?.[s.scope];
    s.spent = { tokens: Number(sum?.tokens ?? 0), usd: Number(sum?.usd ?? 0) };
  }
  return { states, version };
}

/**
 * Sets a budget's limits: a number, null for no limit, undefined to leave it as it was (the
 * default when never set). Returns nothing; read it back with budgetOf.
 */
export async function upsertBudget(
  tx: Tx,
  tenantId: string,
  scope: BudgetScope,
  targetId: string,
  limit: { usd?: number | null; tokens?: number | null },
): Promise<void> {
  const stored = (v: number | null | undefined) => (v === undefined ? undefined : (v ?? -1));
  const props: Record<string, unknown> = {};
  if (limit.usd !== undefined) props.usd = stored(limit.usd);
  if (limit.tokens !== undefined) props.tokens = neo4j.int(stored(limit.tokens)!);
  await tx.run({
    cypher: `
      MERGE (b:Budget {tenantId: $tenantId, scope: $scope, targetId: $targetId})
        ON CREATE SET b.createdAt = datetime()
      SET b += $props, b.updatedAt = datetime()`,
    params: { tenantId, scope, targetId, props },
  });
}

/** One budget with what it has spent (TASK: the root task's whole tree). */
export async function budgetOf(
  tx: Tx,
  tenantId: string,
  scope: BudgetScope,
  targetId: string,
  defaults: BudgetDefaults,
): Promise<BudgetState> {
  const call = {
    agentId: scope === BudgetScope.AGENT ? targetId : null,
    taskId: scope === BudgetScope.TASK ? targetId : null,
  };
  const { states } = await budgetsForCall(tx, tenantId, call, defaults, true);
  return states.find((s) => s.scope === scope && s.targetId === targetId)!;
}

/** True when a task (scope TASK, a root) or agent (AGENT) of this id is the tenant's. */
export async function budgetTargetExists(
  tx: Tx,
  tenantId: string,
  scope: BudgetScope,
  targetId: string,
): Promise<{ exists: boolean; isRoot: boolean }> {
  if (scope === BudgetScope.TENANT) return { exists: targetId === tenantId, isRoot: true };
  const label = scope === BudgetScope.AGENT ? 'Agent' : 'Task';
  const [row] = await tx.run<{ isRoot: boolean }>({
    cypher: `MATCH (n:${label} {tenantId: $tenantId, id: $targetId}) USING INDEX SEEK n:${label}(id)
             RETURN NOT EXISTS { (n)-[:SUBTASK_OF]->() } AS isRoot`,
    params: { tenantId, targetId },
  });
  return { exists: row !== undefined, isRoot: row?.isRoot ?? false };
}

/**
 * Records that a warning was sent for these units at these limits; answers the units this call
 * recorded first (the MERGE locks the budget, so two callers never both warn for one limit).
 */
export async function claimWarning(
  tx: Tx,
  tenantId: string,
  state: BudgetState,
  units: BudgetUnit[],
): Promise<BudgetUnit[]> {
  const [row] = await tx.run<{ claimed: BudgetUnit[] }>({
    cypher: `
      MERGE (b:Budget {tenantId: $tenantId, scope: $scope, targetId: $targetId})
        ON CREATE SET b.createdAt = datetime(), b.updatedAt = datetime()
      ${lockAndBump('b', 'Budget', 'warnLock')}
      WITH b,
           [u IN $units WHERE (u = 'usd' AND coalesce(b.warnedUsd, -1.0) <> $usd)
                          OR (u = 'tokens' AND coalesce(b.warnedTokens, -1) <> $tokens)] AS claimed
      SET b.warnedUsd = CASE WHEN 'usd' IN claimed THEN $usd ELSE b.warnedUsd END,
          b.warnedTokens = CASE WHEN 'tokens' IN claimed THEN $tokens ELSE b.warnedTokens END
      RETURN claimed`,
    params: {
      tenantId,
      scope: state.scope,
      targetId: state.targetId,
      units,
      usd: state.limit.usd ?? -1,
      tokens: neo4j.int(state.limit.tokens ?? -1),
    },
  });
  return row?.claimed ?? [];
}

/**
 * Steps of the tenant waiting for a budget (AWAITING_APPROVAL with a BUDGET_EXCEEDED error)
 * go back to READY, the refused attempt not counted; each checks its budgets again at its first
 * model call. Returns them.
 */
export async function requeueBudgetWaits(
  tx: Tx,
  tenantId: string,
  /** Only this task (a step that was parked after a raise), not every waiting one. */
  taskId: string | null = null,
): Promise<Task[]> {
  const rows = await tx.run<{ t: NodeLike }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, status: 'AWAITING_APPROVAL'})
      WHERE t.error STARTS WITH $prefix AND ($taskId IS NULL OR t.id = $taskId)
      ${lockAndBump('t', 'Task')}
      WITH t WHERE t.status = 'AWAITING_APPROVAL' AND t.error STARTS WITH $prefix
      SET t.status = 'READY', t.error = null, t.updatedAt = datetime(),
          t.attempts = CASE WHEN t.attempts > 0 THEN t.attempts - 1 ELSE 0 END
      RETURN t`,
    params: { tenantId, prefix: BUDGET_WAIT_PREFIX, taskId },
  });
  return rows.map((r) => toTask(r.t));
}
