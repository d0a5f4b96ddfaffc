import DataLoader from 'dataloader';
import * as agents from '../../graph/agent.repository.js';
import * as tasks from '../../graph/task.repository.js';
import { runsByTaskIds, type RunRecord } from '../../graph/run-history.repository.js';
import * as knowledge from '../../graph/knowledge.repository.js';
import {
  CAPABILITY_COUNTERS,
  capabilitiesByAgentIds,
  type CapabilityCounter,
} from '../../graph/capability.repository.js';
import { requestsByTaskIds } from '../../graph/tool-approval.repository.js';
import { forkLinks, type ForkLink } from '../../graph/fork.repository.js';
import {
  grantsOfServers,
  toolCallsByRunIds,
  type ToolGrantRow,
} from '../../graph/tool-server.repository.js';
import type { ToolCallRecord } from '../domain/tool-server.js';
import type { ToolCallRequest } from '../domain/tool-approval.js';
import type { Tx } from '../../graph/cypher.js';
import type { Graph } from '../../graph/graph.js';
import type { Agent, AgentCapability } from '../domain/agent.js';
import { NotFoundError } from '../domain/errors.js';
import { createTaskLoaders } from './task.loaders.js';
import { createMessageLoaders } from './message.loaders.js';
import { createLLMUsageLoaders } from './llm-usage.loaders.js';
import { createMemoryLoaders } from '../memory/memory.loaders.js';
import type { MemoryView } from '../domain/memory-search.js';
import { createEvaluationLoaders } from './evaluation.loaders.js';

/**
 * DataLoaders for one request and one tenant: one Cypher round trip per field level
 * (UNWIND $ids), never one per parent. Never share them across requests or tenants.
 * `memoryView` is what the caller may see of memory (keyView of its key).
 */
export function createLoaders(graph: Graph, tenantId: string, memoryView: MemoryView) {
  // One round trip per batch: a loader's statement needs no transaction of its own.
  const read = <T>(work: (tx: Tx) => Promise<T>) => graph.readAutoCommit(work);
  const task = byId('Task', (ids) => read((tx) => tasks.tasksByIds(tx, tenantId, ids)));
  const keyed = keyedLoaders();
  return {
    agent: byId('Agent', (ids) => read((tx) => agents.agentsByIds(tx, tenantId, ids))),
    task,
    /** Agent.capabilities with these counters (those an answer selects; default all). */
    capabilities: (counters: readonly CapabilityCounter[] = CAPABILITY_COUNTERS) =>
      keyed('capabilities', counters, () =>
        groupedBy(
          (ids) => read((tx) => capabilitiesByAgentIds(tx, tenantId, ids, counters)),
          (c: AgentCapability) => c.agentId,
        ),
      ),
    tasks: createTaskLoaders(read, tenantId, task),
    runs: groupedBy(
      (ids) => read((tx) => runsByTaskIds(tx, tenantId, ids)),
      (r: RunRecord) => r.taskId,
    ),
    messages: createMessageLoaders(read, tenantId),
    knowledge: byId('Knowledge', (ids) =>
      read((tx) => knowledge.knowledgeByIds(tx, tenantId, ids)),
    ),
    knowledgeLinks: groupedBy(
      (ids) => read((tx) => knowledge.linksByKnowledgeIds(tx, tenantId, ids)),
      (l: knowledge.KnowledgeLinks) => l.knowledgeId,
    ),
    llmUsage: createLLMUsageLoaders(read, tenantId),
    memory: createMemoryLoaders(read, tenantId, memoryView),
    /** Run/Task evaluations and the effective one (issue 12). */
    evaluations: createEvaluationLoaders(read, tenantId),
    /** Task.toolCallRequests (issue 13). */
    toolCallRequests: groupedBy(
      (ids) => read((tx) => requestsByTaskIds(tx, tenantId, ids)),
      (r: ToolCallRequest) => r.taskId,
    ),
    /** Task.forkOf and Task.forks (issue 13): the fork links each task is in. */
    forkLinks: new DataLoader<string, ForkLink[]>(async (ids) => {
      const links = await read((tx) => forkLinks(tx, tenantId, ids));
      return ids.map((id) => links.filter((l) => l.forkId === id || l.stepId === id));
    }),
    /** Run.toolCalls (issue 16). */
    toolCalls: groupedBy(
      (ids) => read((tx) => toolCallsByRunIds(tx, tenantId, ids)),
      (c: ToolCallRecord) => c.runId,
    ),
    /** ToolServer.grants (issue 16). */
    toolGrants: new DataLoader<string, ToolGrantRow[]>(async (ids) => {
      const grants = await read((tx) => grantsOfServers(tx, tenantId, ids));
      return ids.map((id) => grants.get(id) ?? []);
    }),
    /** Loaders whose batch depends on field arguments, made once per distinct arguments. */
    keyed,
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/**
 * A loader by id, honouring dataloader's contract: one result per key, in key order, and a
 * NotFoundError in each gap (an id of another tenant is a gap too).
 */
export function byId<T extends { id: string }>(
  what: string,
  fetch: (ids: readonly string[]) => Promise<T[]>,
): DataLoader<string, T> {
  return new DataLoader<string, T>(async (ids) => {
    const found = new Map((await fetch(ids)).map((item) => [item.id, item]));
    return ids.map((id) => found.get(id) ?? new NotFoundError(what, id));
  });
}

/** A loader's item, or null where it answers NOT_FOUND: an optional link to a hidden node. */
export async function loadOrNull<T>(loader: DataLoader<string, T>, id: string): Promise<T | null> {
  try {
    return await loader.load(id);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/** A loader of lists by parent id: one list per key, in key order, empty where none. */
export function groupedBy<T>(
  fetch: (ids: readonly string[]) => Promise<T[]>,
  keyOf: (item: T) => string,
): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (ids) => {
    const groups = new Map<string, T[]>();
    for (const item of await fetch(ids)) {
      const key = keyOf(item);
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    return ids.map((id) => groups.get(id) ?? []);
  });
}

function keyedLoaders() {
  const cache = new Map<string, DataLoader<string, unknown>>();
  /** The loader for `name` with these arguments, created on first use in this request. */
  return <T>(name: string, args: unknown, create: () => DataLoader<string, T>) => {
    const key = `${name}:${JSON.stringify(args)}`;
    let loader = cache.get(key);
    if (!loader) {
      loader = create() as DataLoader<string, unknown>;
      cache.set(key, loader);
    }
    return loader as DataLoader<string, T>;
  };
}

export type { Agent };
