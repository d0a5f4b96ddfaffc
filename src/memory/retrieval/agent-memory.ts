import type { Tx } from '../../../graph/cypher.js';
import { markApplied, setTaskContext } from '../../../graph/memory/applied.repository.js';
import {
  LABEL_OF_KIND,
  MemoryHitKind,
  type MemoryHit,
  type MemoryRef,
} from '../../domain/memory-search.js';
import type { Logger } from '../../logger.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import type { Embedder } from '../embeddings/embedder.js';
import { MemorySearch } from './search.js';
import { agentView } from '../view.js';

/*
 * Memory in the agents' prompts (issue 11): what a Chief of Staff's planning prompt and an
 * operator's search_memory tool get, bounded, and the APPLIED_IN edges that record it.
 */

/** What the agent chains have that retrieval needs. */
export interface MemoryDeps {
  uow: UnitOfWork;
  embedder?: Embedder | null;
  logger?: Logger;
}

/** How many memories a planning prompt shows at most, and how long each line may be. */
export const PLANNING_MEMORIES = 8;
export const MEMORY_LINE = 300;
/** How many memories one subtask's context package holds at most. */
export const PACKAGE_SIZE = 5;

export const refOf = (hit: Pick<MemoryHit, 'kind' | 'id'>): MemoryRef => ({
  label: LABEL_OF_KIND[hit.kind],
  id: hit.id,
});

/** One prompt line of a hit: `(fact) Acme revenue is 12M`, cut at MEMORY_LINE characters. */
export function memoryLine(hit: Pick<MemoryHit, 'kind' | 'text'>): string {
  const text = hit.text.replace(/\s+/g, ' ').trim();
  const cut = text.length > MEMORY_LINE ? `${text.slice(0, MEMORY_LINE - 1)}…` : text;
  return `(${hit.kind.toLowerCase()}) ${cut}`;
}

/**
 * An agent's own search: the tenant's memories, its own and its tasks'. The search itself
 * never fails a step: a broken search is logged and answers nothing. Its step's `signal`
 * ends it (rejecting with the signal's reason): an aborted step does not wait on an embedder.
 */
export async function searchAsAgent(
  deps: MemoryDeps,
  who: { tenantId: string; agentId: string; taskIds: string[] },
  query: string,
  options: { first: number; kinds?: MemoryHitKind[]; signal?: AbortSignal },
): Promise<MemoryHit[]> {
  try {
    return await new MemorySearch(deps).search(who.tenantId, {
      query,
      view: agentView(who.agentId, who.taskIds),
      first: options.first,
      kinds: options.kinds,
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    deps.logger?.warn(
      { err, agentId: who.agentId },
      'memory search failed; the prompt goes without it',
    );
    return [];
  }
}

/** The entities and current facts relevant to a task, for its planning prompt. */
export function planningMemory(
  deps: MemoryDeps,
  who: { tenantId: string; agentId: string; taskIds: string[] },
  query: string,
  signal?: AbortSignal,
): Promise<MemoryHit[]> {
  return searchAsAgent(deps, who, query, {
    first: PLANNING_MEMORIES,
    kinds: [MemoryHitKind.ENTITY, MemoryHitKind.FACT],
    signal,
  });
}

const words = (text: string) =>
  new Set(
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w.length > 2),
  );

/**
 * A Chief of Staff's context package per planned step: the planning memories that share the
 * most words with the step's title and instructions (at least one), best first, at most
 * PACKAGE_SIZE. Pure: the same plan and memories give the same packages.
 */
export function contextPackages(
  steps: readonly { key: string; title: string; instructions: string }[],
  memories: readonly Pick<MemoryHit, 'kind' | 'id' | 'text'>[],
): Map<string, MemoryRef[]> {
  const memoryWords = memories.map((m) => words(m.text));
  return new Map(
    steps.map((s) => {
      const stepWords = words(`${s.title} ${s.instructions}`);
      const chosen = memories
        .map((m, i) => ({
          m,
          i,
          shared: [...memoryWords[i]!].filter((w) => stepWords.has(w)).length,
        }))
        .filter((c) => c.shared > 0)
        .sort((a, b) => b.shared - a.shared || a.i - b.i)
        .slice(0, PACKAGE_SIZE)
        .map((c) => refOf(c.m));
      return [s.key, chosen];
    }),
  );
}

/** Queued with a step's writes: the items entered a prompt of its run (APPLIED_IN). */
export function appliedWrite(tenantId: string, runId: string, items: readonly MemoryRef[]) {
  return (tx: Tx) => markApplied(tx, tenantId, runId, items);
}

/** Queued with a plan: each subtask's context package (CONTEXT edges). */
export function contextWrite(
  tenantId: string,
  packages: readonly { taskId: string; items: readonly MemoryRef[] }[],
) {
  return (tx: Tx) => setTaskContext(tx, tenantId, packages);
}
