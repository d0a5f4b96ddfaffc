import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';

/** What a usage trend groups model calls by; the only keys spliced into the statement. */
const KEYS = { MODEL: 'coalesce(c.responseModel, c.model)', AGENT: 'c.agentId' } as const;
export type UsageTrendGroup = keyof typeof KEYS;

export type UsageTrendRow = {
  /** Whole buckets between the window's start and the call (0 = the oldest). */
  bucket: number;
  /** The model's name, or the agent's id; null for calls of no agent (chat summaries, memory). */
  key: string | null;
  /** The agent's name (AGENT only; null when it was deleted). */
  name: string | null;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
};

/**
 * The tenant's model calls made in [since, until), summed per bucket and per model or agent,
 * oldest bucket first; one statement that seeks the (tenantId, createdAt) index.
 */
export async function usageTrendRows(
  tx: Tx,
  o: { tenantId: string; by: UsageTrendGroup; sinceMs: number; untilMs: number; bucketMs: number },
): Promise<UsageTrendRow[]> {
  const key = KEYS[o.by];
  const rows = await tx.run<UsageTrendRow>({
    cypher: `
      MATCH (c:LLMCall {tenantId: $tenantId})
      USING INDEX SEEK c:LLMCall(tenantId, createdAt)
      WHERE c.createdAt >= datetime({epochMillis: $sinceMs})
        AND c.createdAt < datetime({epochMillis: $untilMs})
      WITH (c.createdAt.epochMillis - $sinceMs) / $bucketMs AS bucket, ${key} AS key, c
      WITH bucket, key, count(c) AS calls, sum(c.promptTokens) AS promptTokens,
           sum(c.completionTokens) AS completionTokens, sum(c.totalTokens) AS totalTokens,
           sum(c.costUsd) AS costUsd
      OPTIONAL MATCH (a:Agent {tenantId: $tenantId, id: CASE WHEN $byAgent THEN key END})
      USING INDEX SEEK a:Agent(id)
      RETURN bucket, key, a.name AS name, calls, promptTokens, completionTokens, totalTokens,
             costUsd
      ORDER BY bucket, key`,
    params: {
      tenantId: o.tenantId,
      sinceMs: neo4j.int(o.sinceMs),
      untilMs: neo4j.int(o.untilMs),
      bucketMs: neo4j.int(o.bucketMs),
      byAgent: o.by === 'AGENT',
    },
  });
  return rows.map((r) => ({
    bucket: Number(r.bucket),
    key: r.key ?? null,
    name: r.name ?? null,
    calls: Number(r.calls),
    promptTokens: Number(r.promptTokens ?? 0),
    completionTokens: Number(r.completionTokens ?? 0),
    totalTokens: Number(r.totalTokens ?? 0),
    // As each call's cost: rounded to 1e-10 USD so sums show no float noise.
    costUsd: Math.round(Number(r.costUsd ?? 0) * 1e10) / 1e10,
  }));
}
