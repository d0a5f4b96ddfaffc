import type { Entity, Fact, MemoryScope } from './memory.js';

/** What a memory search hit is (issue 11). */
export enum MemoryHitKind {
  ENTITY = 'ENTITY',
  FACT = 'FACT',
  EPISODE = 'EPISODE',
  KNOWLEDGE = 'KNOWLEDGE',
}

/** The graph label of each kind: the only labels retrieval splices into Cypher. */
export const LABEL_OF_KIND = {
  ENTITY: 'Entity',
  FACT: 'Fact',
  EPISODE: 'Episode',
  KNOWLEDGE: 'Knowledge',
} as const satisfies Record<MemoryHitKind, string>;
export type MemoryLabel = (typeof LABEL_OF_KIND)[MemoryHitKind];

/** One memory item by label and id (what APPLIED_IN and CONTEXT edges point at). */
export type MemoryRef = {
  label: MemoryLabel;
  id: string;
};

/** How each retriever saw a hit; null where that retriever did not find it. */
export interface MemoryHitParts {
  bm25Rank: number | null;
  bm25Score: number | null;
  vectorRank: number | null;
  vectorScore: number | null;
  /** Hops from the focus node (0: the focus entity itself). */
  graphDistance: number | null;
  graphRank: number | null;
  /** An episode all of whose facts have ended: ranked at half its fused score. */
  superseded: boolean;
}

/** Where a hit came from: its visible episodes, their readable sources, and their runs. */
export interface MemoryProvenance {
  episodeIds: string[];
  sources: string[];
  runIds: string[];
}

export interface MemoryHit {
  kind: MemoryHitKind;
  id: string;
  /** What a prompt shows of it. */
  text: string;
  /** The fused score (reciprocal rank fusion); higher is better. */
  score: number;
  parts: MemoryHitParts;
  provenance: MemoryProvenance;
  entity: Entity | null;
  fact: Fact | null;
}

/**
 * Whose memories a search may see. `scopes` names the episode scopes at all; `agentId` and
 * `taskIds` narrow AGENT and TASK to one agent's and some tasks' own (null: all of them, the
 * API's admin view). Entities and facts are visible when one of their source episodes is, or
 * when they have none and were not learned only from private ones (graph/memory/view.ts).
 */
export interface MemoryView {
  scopes: MemoryScope[];
  agentId: string | null;
  taskIds: string[] | null;
}
