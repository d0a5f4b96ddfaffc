import neo4j from 'neo4j-driver';
import { NO_USAGE, type LLMCallRecord, type LLMUsage } from '../src/domain/llm-call.js';
import type { CypherQuery, Tx } from './cypher.js';
import { BUDGET_WAIT_PREFIX } from './budget.repository.js';

/**
 * Records one model call. With a runId of this tenant it is linked (:Run)-[:CALLED]->(:LLMCall),
 * and taskId/agentId default to the run's task and agent. MERGE on id: a retried transaction
 * writes it once.
 *
 * Booking: a call is booked on the run (and so the task) it was made for, and attributed to the
 * agent whose model answered (`agentId`). They differ for ask_agent: the expert's answer is part
 * of the asker's step, so it counts in the asker's run and task, and in the expert's agent total.
 * Hence runs sum to their tasks, tasks (SUBTREE) to their roots, agents to the tenant; an agent's
 * total is not the sum of its runs.
 */
export async function recordLLMCall(tx: Tx, call: LLMCallRecord): Promise<void> {
  await tx.run({
    cypher: `
      MERGE (c:LLMCall {id: $id})
      ON CREATE SET c += $props, c.createdAt = datetime(), c.updatedAt = datetime()
      WITH c
      OPTIONAL MATCH (r:Run {tenantId: $tenantId, id: $runId}) USING INDEX SEEK r:Run(id)
      OPTIONAL MATCH (r)-[:OF]->(t:Task)
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      SET c.runId = r.id, c.taskId = coalesce($taskId, t.id), c.agentId = coalesce($agentId, a.id)
      FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END | MERGE (r)-[:CALLED]->(c))
      // Read after the MERGE locked the run, so it sees its committed end: a call recorded
      // after its attempt ended without success is abandoned too (markCallsAbandoned ran first;
      // of interrupted attempts, those a budget stopped: a held one resumes with its calls).
      WITH c, r
      SET c.abandoned = CASE WHEN r.status IN ['FAILED', 'CANCELLED', 'ABANDONED', 'ABORTED', 'RELEASED']
                               OR (r.status = 'INTERRUPTED' AND r.error STARTS WITH $budgetWait)
                             THEN true ELSE c.abandoned END`,
    params: {
      budgetWait: BUDGET_WAIT_PREFIX,
      id: call.id,
      tenantId: call.tenantId,
      runId: call.runId,
      taskId: call.taskId,
      agentId: call.agentId,
      props: {
        tenantId: call.tenantId,
        provider: call.provider,
        model: call.model,
        responseModel: call.responseModel,
        purpose: call.purpose,
        promptTokens: neo4j.int(call.promptTokens),
        cachedPromptTokens: neo4j.int(call.cachedPromptTokens),
        completionTokens: neo4j.int(call.completionTokens),
        totalTokens: neo4j.int(call.totalTokens),
        costUsd: call.costUsd,
        priced: call.priced,
        latencyMs: neo4j.int(call.latencyMs),
        error: call.error,
      },
    },
  });
}

/**
 * Marks the model calls of runs that did not succeed (failed, cancelled, lost their lease,
 * released) `abandoned: true`: still money spent, but for nothing the graph kept.
 */
export async function markCallsAbandoned(tx: Tx, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $runIds AS runId
      MATCH (r:Run {id: runId})-[:CALLED]->(c:LLMCall) USING INDEX SEEK r:Run(id)
      SET c.abandoned = true`,
    params: { runIds },
  });
}

/** The properties a usage total may be grouped by; the only text spliced into the Cypher. */
const GROUP_KEYS = { run: 'runId', task: 'taskId', agent: 'agentId' } as const;
export type UsageGroup = keyof typeof GROUP_KEYS;

const SUMS = `count(c) AS calls, sum(c.promptTokens) AS promptTokens,
  sum(coalesce(c.cachedPromptTokens, 0)) AS cachedPromptTokens,
  sum(c.completionTokens) AS completionTokens, sum(c.totalTokens) AS totalTokens,
  sum(c.costUsd) AS costUsd, count(CASE WHEN c.priced = false THEN 1 END) AS unpricedCalls`;

/** Builds the per-id totals query: one row per id, zeros where there are no calls. */
export function usageByIdsQuery(
  tenantId: string,
  group: UsageGroup,
  ids: readonly string[],
): CypherQuery {
  const key = GROUP_KEYS[group];
  return {
    cypher: `
      UNWIND $ids AS id
      OPTIONAL MATCH (c:LLMCall {tenantId: $tenantId, ${key}: id})
      USING INDEX SEEK c:LLMCall(tenantId, ${key})
      RETURN id, ${SUMS}`,
    params: { tenantId, ids },
  };
}

type UsageRow = Record<keyof LLMUsage, number | null>;

/** Totals as numbers; the cost rounded to 1e-10 USD (as each call's) so sums show no float noise. */
function toUsage(row: UsageRow): LLMUsage {
  const n = (v: number | null) => Number(v ?? 0);
  return {
    calls: n(row.calls),
    promptTokens: n(row.promptTokens),
    cachedPromptTokens: n(row.cachedPromptTokens),
    completionTokens: n(row.completionTokens),
    totalTokens: n(row.totalTokens),
    costUsd: Math.round(n(row.costUsd) * 1e10) / 1e10,
    unpricedCalls: n(row.unpricedCalls),
  };
}

async function usageByIds(
  tx: Tx,
  tenantId: string,
  group: UsageGroup,
  ids: readonly string[],
): Promise<Array<LLMUsage & { id: string }>> {
  const rows = await tx.run<UsageRow & { id: string }>(usageByIdsQuery(tenantId, group, ids));
  return rows.map((r) => ({ id: r.id, ...toUsage(r) }));
}

/** For loaders: the calls made in each run. */
export const usageByRunIds = (tx: Tx, tenantId: string, ids: readonly string[]) =>
  usageByIds(tx, tenantId, 'run', ids);

/** For loaders: the calls made for each task itself (its own runs; not its subtasks'). */
export const usageByTaskIds = (tx: Tx, tenantId: string, ids: readonly string[]) =>
  usageByIds(tx, tenantId, 'task', ids);

/**
 * Builds the per-root totals query over whole subtrees: the calls made for each task and every
 * task below it (SUBTASK_OF, any depth), in the tenant only. One row per id, zeros where none.
 */
export function usageBySubtreeIdsQuery(tenantId: string, ids: readonly string[]): CypherQuery {
  return {
    cypher: `
      UNWIND $ids AS id
      OPTIONAL MATCH (root:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK root:Task(id)
      OPTIONAL MATCH (t:Task {tenantId: $tenantId})-[:SUBTASK_OF*0..]->(root)
      WITH DISTINCT id, t
      OPTIONAL MATCH (c:LLMCall {tenantId: $tenantId, taskId: t.id})
      USING INDEX SEEK c:LLMCall(tenantId, taskId)
      RETURN id, ${SUMS}`,
    params: { tenantId, ids },
  };
}

/** For loaders: the calls made for each task and all of its subtasks, at any depth. */
export async function usageBySubtreeIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Array<LLMUsage & { id: string }>> {
  const rows = await tx.run<UsageRow & { id: string }>(usageBySubtreeIdsQuery(tenantId, ids));
  return rows.map((r) => ({ id: r.id, ...toUsage(r) }));
}

/** For loaders: the calls made by each agent. */
export const usageByAgentIds = (tx: Tx, tenantId: string, ids: readonly string[]) =>
  usageByIds(tx, tenantId, 'agent', ids);

/** Every call of the tenant. */
export async function usageOfTenant(tx: Tx, tenantId: string): Promise<LLMUsage> {
  const [row] = await tx.run<UsageRow>({
    cypher: `MATCH (c:LLMCall {tenantId: $tenantId}) RETURN ${SUMS}`,
    params: { tenantId },
  });
  return row ? toUsage(row) : { ...NO_USAGE };
}

/** The models a tenant's calls named, with what their records say (for the smoke test). */
export interface ModelSeen {
  model: string | null;
  responseModel: string | null;
  calls: number;
  unpriced: number;
  /** Answered calls (no error) with no tokens: the server reported no usage. */
  withoutUsage: number;
}

export async function modelsSeen(tx: Tx, tenantId: string): Promise<ModelSeen[]> {
  return tx.run<ModelSeen & Record<string, unknown>>({
    cypher: `
      MATCH (c:LLMCall {tenantId: $tenantId})
      RETURN c.model AS model, c.responseModel AS responseModel, count(c) AS calls,
        count(CASE WHEN c.priced = false THEN 1 END) AS unpriced,
        count(CASE WHEN c.error IS NULL AND coalesce(c.totalTokens, 0) = 0 THEN 1 END) AS withoutUsage
      ORDER BY calls DESC`,
    params: { tenantId },
  });
}
