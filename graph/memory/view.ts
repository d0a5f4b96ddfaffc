import { MemoryScope } from '../../src/domain/memory.js';
import type { MemoryView } from '../../src/domain/memory-search.js';

/*
 * Who may see which memory, as Cypher: one rule for searchMemory and for the memory reads
 * (episodes, entities, facts and their fields). The conditions read $scopes, $agentId and
 * $taskIds (viewParams).
 */

/** The labels whose visibility a view decides. */
export type ViewedLabel = 'Episode' | 'Entity' | 'Fact';

/** Who sees an episode `e`: the view's scopes, narrowed to its agent and tasks when set. */
export function episodeVisible(e: string): string {
  return `(
    (coalesce(${e}.scope, 'TENANT') = 'TENANT' AND 'TENANT' IN $scopes)
    OR (${e}.scope = 'AGENT' AND 'AGENT' IN $scopes AND ($agentId IS NULL OR ${e}.scopeId = $agentId))
    OR (${e}.scope = 'TASK' AND 'TASK' IN $scopes AND ($taskIds IS NULL OR ${e}.scopeId IN $taskIds))
  )`;
}

/**
 * SET items for an entity or fact `n` losing its source episode `e` to retention: `privateOnly`
 * stays true while every source forgotten was agent- or task-private, false once one was shared.
 */
export function markForgottenSource(n: string, e: string): string {
  return `${n}.privateOnly = CASE WHEN coalesce(${e}.scope, 'TENANT') = 'TENANT' THEN false
    ELSE coalesce(${n}.privateOnly, true) END`;
}

/**
 * Visible when one of its source episodes (over `edge`) is visible, or when it has none and was
 * not learned only from private ones that retention forgot (those stay with views that see all).
 */
function sourcesVisible(n: string, edge: string): string {
  return `((NOT EXISTS { (${n})-[:${edge}]->(:Episode) } AND NOT coalesce(${n}.privateOnly, false))
    OR EXISTS { MATCH (${n})-[:${edge}]->(src:Episode) WHERE ${episodeVisible('src')} })`;
}

/**
 * Who sees the node `n` of `label`: an episode in the view; an entity or a fact with a visible
 * source episode (MENTIONED_IN, FROM_EPISODE), or with none unless all it had were private.
 */
export function memoryVisible(label: ViewedLabel, n: string): string {
  switch (label) {
    case 'Episode':
      return episodeVisible(n);
    case 'Entity':
      return sourcesVisible(n, 'MENTIONED_IN');
    case 'Fact':
      return sourcesVisible(n, 'FROM_EPISODE');
  }
}

/** True when the view sees every episode of the tenant: then no condition is needed. */
function seesAll(view: MemoryView): boolean {
  return (
    view.agentId === null &&
    view.taskIds === null &&
    Object.values(MemoryScope).every((s) => view.scopes.includes(s))
  );
}

/**
 * memoryVisible for a read that may skip it: null (no condition) when the view sees all or
 * none is given (the platform's own reads: ingestion, merges).
 */
export function viewCondition(
  view: MemoryView | undefined,
  label: ViewedLabel,
  n: string,
): string | null {
  return view && !seesAll(view) ? memoryVisible(label, n) : null;
}

/** Parameters the visibility conditions read (harmless when there are none). */
export function viewParams(view: MemoryView | undefined) {
  return {
    scopes: view?.scopes ?? Object.values(MemoryScope),
    agentId: view?.agentId ?? null,
    taskIds: view?.taskIds ?? null,
  };
}
