import neo4j from 'neo4j-driver';
import type { Entity, Fact } from '../../src/domain/memory.js';
import type { MemoryLabel, MemoryRef, MemoryView } from '../../src/domain/memory-search.js';
import type { CypherQuery, Tx } from '../cypher.js';
import { fulltextNodes, luceneQuery, tenantLuceneQuery, withoutStopWords } from '../fulltext.js';
import type { NodeLike } from '../page.js';
import { factTimeCondition } from './fact.repository.js';
import { toEntity, toFact } from './mappers.js';
import { episodeVisible, memoryVisible, viewCondition, viewParams } from './view.js';

/*
 * The Cypher of memory retrieval (issue 11): BM25 candidates, the neighbourhood of a focus
 * node, and the one query that keeps only the candidates a viewer may see at a time.
 */

export const MEMORY_LABELS = ['Entity', 'Fact', 'Episode', 'Knowledge'] as const;
/** The nodes a graph walk passes through: memory, and the work that produced it. */
const WALK_LABELS = ['Agent', 'Task', 'Run', ...MEMORY_LABELS] as const;
/** The edges a graph walk follows (either way). */
const WALK_EDGES = 'SUBJECT|OBJECT|MENTIONED_IN|FROM_EPISODE|FROM_RUN|OF|BY|ABOUT';

/** A node by id among `labels`, each an index seek (a label-less MATCH would scan the graph). */
function byLabel(labels: readonly string[], ref: string, node: string): string {
  return labels
    .map((l) => `MATCH (${node}:${l} {id: ${ref}.id}) WHERE ${ref}.label = '${l}' RETURN ${node}`)
    .join('\n  UNION\n  ');
}

export type ScoredRef = MemoryRef & { score: number };

/**
 * BM25 over the memory_text index, the tenant inside the Lucene query, the question's stop
 * words left out (bench:memory: with them, BM25 alone took 266 ms at 100k facts). Best first,
 * ties by id.
 */
export function bm25Query(
  index: 'memory_text' | 'knowledge_text',
  tenantId: string,
  text: string,
  limit: number,
): CypherQuery {
  return {
    cypher: `
      ${fulltextNodes('$index', '$query')} YIELD node, score
      WHERE node.tenantId = $tenantId
      RETURN node.id AS id, [l IN labels(node) WHERE l IN $labels][0] AS label, score
      ORDER BY score DESC, id
      LIMIT $limit`,
    params: {
      index,
      query: tenantLuceneQuery(index, tenantId, luceneQuery(withoutStopWords(text))),
      tenantId,
      labels: [...MEMORY_LABELS],
      limit: neo4j.int(limit),
    },
  };
}

/** BM25 hits over entities, facts and episodes (and knowledge items when asked), best first. */
export async function bm25Memory(
  tx: Tx,
  tenantId: string,
  text: string,
  limit: number,
  withKnowledge: boolean,
): Promise<ScoredRef[]> {
  if (!luceneQuery(text)) return [];
  const rows = await tx.run<ScoredRef>(bm25Query('memory_text', tenantId, text, limit));
  if (withKnowledge) {
    rows.push(...(await tx.run<ScoredRef>(bm25Query('knowledge_text', tenantId, text, limit))));
  }
  return rows
    .filter((r) => r.label)
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
}

export type WalkRef = {
  id: string;
  label: (typeof WALK_LABELS)[number];
};

/**
 * The tenant's Agent, Task or Entity with this id: where a graph walk may start. An entity the
 * view may not see is not found, as entity(id) says.
 */
export async function focusNode(
  tx: Tx,
  tenantId: string,
  id: string,
  view: MemoryView,
): Promise<WalkRef | null> {
  const entitySeen = viewCondition(view, 'Entity', 'n');
  const [row] = await tx.run<{ id: string; label: WalkRef['label'] }>({
    cypher: `
      CALL () {
        MATCH (n:Agent {id: $id}) RETURN n
        UNION MATCH (n:Task {id: $id}) RETURN n
        UNION MATCH (n:Entity {id: $id}) RETURN n
      }
      WITH n WHERE n.tenantId = $tenantId ${entitySeen ? `AND (NOT n:Entity OR ${entitySeen})` : ''}
      RETURN n.id AS id, [l IN labels(n) WHERE l IN ['Agent', 'Task', 'Entity']][0] AS label
      ORDER BY id LIMIT 1`,
    params: { tenantId, id, ...viewParams(view) },
  });
  return row ?? null;
}

/** Memory the view may not see is no step of a walk: it would tell what private memory links. */
function walkVisible(view: MemoryView, n: string): string {
  const [episode, entity, fact] = (['Episode', 'Entity', 'Fact'] as const).map((l) =>
    viewCondition(view, l, n),
  );
  if (!episode) return '';
  return `AND CASE WHEN ${n}:Episode THEN ${episode} WHEN ${n}:Entity THEN ${entity}
    WHEN ${n}:Fact THEN ${fact} ELSE true END`;
}

/**
 * One breadth-first hop: the tenant's nodes next to the frontier over memory edges, not in
 * `seen`, at most `limit` (in id order, so a budget cuts the same way every time).
 */
export function walkHop(
  tx: Tx,
  tenantId: string,
  frontier: readonly WalkRef[],
  seen: readonly string[],
  limit: number,
  view: MemoryView,
): Promise<WalkRef[]> {
  if (frontier.length === 0 || limit < 1) return Promise.resolve([]);
  return tx.run<WalkRef>({
    cypher: `
      UNWIND $frontier AS ref
      CALL (ref) {
        ${byLabel(WALK_LABELS, 'ref', 'a')}
      }
      WITH a WHERE a.tenantId = $tenantId
      MATCH (a)-[:${WALK_EDGES}]-(b)
      WHERE b.tenantId = $tenantId AND NOT b.id IN $seen ${walkVisible(view, 'b')}
      WITH DISTINCT b.id AS id, [l IN labels(b) WHERE l IN $labels][0] AS label
      WHERE label IS NOT NULL
      RETURN id, label ORDER BY id LIMIT $limit`,
    params: {
      tenantId,
      frontier,
      seen,
      labels: [...WALK_LABELS],
      limit: neo4j.int(limit),
      ...viewParams(view),
    },
  });
}

/** A candidate the viewer may see, with what a hit shows of it. */
export interface VisibleItem extends MemoryRef {
  text: string;
  /** The embedder's vector, when asked for and stored. */
  vector: number[] | null;
  episodeIds: string[];
  sources: string[];
  runIds: string[];
  entity: Entity | null;
  fact: Fact | null;
  /** An episode every fact of which has ended (at asOf, or now): what it says no longer holds. */
  superseded: boolean;
}

/** How many episodes and runs a hit's provenance names at most. */
const PROVENANCE_LIMIT = 10;

/**
 * The candidates the view may see at `asOf` (null: now), in no particular order:
 * - facts valid and known then (without asOf: current ones), entities not merged away,
 *   entities and episodes created by then;
 * - episodes in the view's scopes; entities and facts with a visible source episode or none;
 *   knowledge items only when the view includes TENANT.
 * Provenance names only visible episodes. `vectorProperty`, when given, is read as the vector.
 */
export async function visibleItems(
  tx: Tx,
  tenantId: string,
  refs: readonly MemoryRef[],
  view: MemoryView,
  asOf: string | null,
  vectorProperty: string | null,
): Promise<VisibleItem[]> {
  if (refs.length === 0) return [];
  const rows = await tx.run<{
    label: MemoryLabel;
    n: NodeLike;
    vector: number[] | null;
    episodes: { id: string; source: string }[];
    runIds: string[];
    subjectId: string | null;
    objectId: string | null;
    replacedById: string | null;
    superseded: boolean;
  }>({
    cypher: `
      UNWIND $refs AS ref
      CALL (ref) {
        ${byLabel(MEMORY_LABELS, 'ref', 'n')}
      }
      WITH ref, n WHERE n.tenantId = $tenantId
        AND ($asOf IS NULL OR n.createdAt <= datetime($asOf))
        AND CASE ref.label
          WHEN 'Entity' THEN n.mergedInto IS NULL AND ${memoryVisible('Entity', 'n')}
          WHEN 'Fact' THEN ${factTimeCondition(asOf, 'n')} AND ${memoryVisible('Fact', 'n')}
          WHEN 'Episode' THEN ${memoryVisible('Episode', 'n')}
          ELSE 'TENANT' IN $scopes
        END
      WITH DISTINCT ref.label AS label, n
      WITH label, n, CASE label
          WHEN 'Episode' THEN [n]
          WHEN 'Entity' THEN COLLECT {
            MATCH (n)-[:MENTIONED_IN]->(e:Episode) WHERE ${episodeVisible('e')}
            RETURN e ORDER BY e.occurredAt DESC, e.id LIMIT $provenance }
          WHEN 'Fact' THEN COLLECT {
            MATCH (n)-[:FROM_EPISODE]->(e:Episode) WHERE ${episodeVisible('e')}
            RETURN e ORDER BY e.occurredAt DESC, e.id LIMIT $provenance }
          ELSE [] END AS sources
      RETURN label, n,
        CASE WHEN $vectorProperty IS NULL THEN null ELSE n[$vectorProperty] END AS vector,
        [e IN sources | {id: e.id, source: coalesce(e.source, e.sourceKey)}] AS episodes,
        CASE label
          WHEN 'Knowledge' THEN COLLECT {
            MATCH (n)-[:LEARNED_FROM]->(r:Run) RETURN r.id ORDER BY r.id LIMIT $provenance }
          ELSE COLLECT {
            UNWIND sources AS e MATCH (e)-[:FROM_RUN]->(r:Run)
            RETURN DISTINCT r.id AS id ORDER BY id LIMIT $provenance }
        END AS runIds,
        CASE WHEN label = 'Fact' THEN COLLECT { MATCH (n)-[:SUBJECT]->(s:Entity) RETURN s.id LIMIT 1 }[0] END AS subjectId,
        CASE WHEN label = 'Fact' THEN COLLECT { MATCH (n)-[:OBJECT]->(o:Entity) RETURN o.id LIMIT 1 }[0] END AS objectId,
        CASE WHEN label = 'Fact' THEN COLLECT { MATCH (n)-[:REPLACED_BY]->(g:Fact) RETURN g.id LIMIT 1 }[0] END AS replacedById,
        label = 'Episode'
          AND EXISTS { MATCH (f:Fact)-[:FROM_EPISODE]->(n) }
          AND NOT EXISTS { MATCH (f:Fact)-[:FROM_EPISODE]->(n) WHERE ${factTimeCondition(asOf, 'f')} }
          AS superseded`,
    params: {
      tenantId,
      refs: refs.map((r) => ({ label: r.label, id: r.id })),
      ...viewParams(view),
      asOf,
      vectorProperty,
      provenance: neo4j.int(PROVENANCE_LIMIT),
    },
  });
  return rows.map((row) => {
    const p = row.n.properties;
    const entity = row.label === 'Entity' ? toEntity(row.n) : null;
    const fact =
      row.label === 'Fact' && row.subjectId
        ? toFact({
            f: row.n,
            subjectId: row.subjectId,
            objectId: row.objectId,
            replacedById: row.replacedById,
          })
        : null;
    return {
      label: row.label,
      id: String(p.id),
      text: textOf(row.label, p),
      vector: Array.isArray(row.vector) ? row.vector.map(Number) : null,
      episodeIds: row.episodes.map((e) => e.id),
      sources: row.episodes.map((e) => String(e.source)),
      runIds: row.runIds,
      entity,
      fact,
      superseded: row.superseded === true,
    };
  });
}

/** What a hit (and a prompt) shows of a node. */
function textOf(label: MemoryLabel, p: Record<string, unknown>): string {
  switch (label) {
    case 'Entity': {
      const summary = String(p.summary ?? '').trim();
      return `${String(p.name)} (${String(p.type ?? 'Thing')})${summary ? `: ${summary}` : ''}`;
    }
    case 'Fact':
      return String(p.text ?? '');
    case 'Episode':
      return String(p.content ?? '');
    default:
      return String(p.content ?? '');
  }
}
