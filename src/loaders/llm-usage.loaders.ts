import DataLoader from 'dataloader';
import type { Tx } from '../../graph/cypher.js';
import * as calls from '../../graph/llm-call.repository.js';
import { NO_USAGE, type LLMUsage } from '../domain/llm-call.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;
type Fetch = (
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
) => Promise<Array<LLMUsage & { id: string }>>;

/** Model-call totals for one request: one query per field level; zeros where none. */
export function createLLMUsageLoaders(read: Read, tenantId: string) {
  const totals = (fetch: Fetch) =>
    new DataLoader<string, LLMUsage>(async (ids) => {
      const found = new Map((await read((tx) => fetch(tx, tenantId, ids))).map((u) => [u.id, u]));
      return ids.map((id) => {
        const { id: _id, ...usage } = found.get(id) ?? { id, ...NO_USAGE };
        return usage;
      });
    });
  let tenant: Promise<LLMUsage> | undefined;
  return {
    byRun: totals(calls.usageByRunIds),
    byTask: totals(calls.usageByTaskIds),
    /** A task and every task below it. */
    bySubtree: totals(calls.usageBySubtreeIds),
    byAgent: totals(calls.usageByAgentIds),
    /** The whole tenant's totals, read once per request. */
    ofTenant: () => (tenant ??= read((tx) => calls.usageOfTenant(tx, tenantId))),
  };
}
