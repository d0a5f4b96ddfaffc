import { randomUUID } from 'node:crypto';
import type { Knowledge, KnowledgeKind } from '../src/domain/knowledge.js';
import type { Page, PageRequest } from '../src/domain/page.js';
import type { Tx } from './cypher.js';
import { fulltextSearchQuery } from './fulltext.js';
import { toKnowledge } from './mappers.js';
import { readPage, type NodeLike, type Sort } from './page.js';
import { walkFrom } from './page-direct.js';

export interface NewKnowledge {
  kind: KnowledgeKind;
  content: string;
  confidence: number;
  tags: string[];
  agentId: string | null;
  taskId: string | null;
  supersedesId: string | null;
}

export interface KnowledgeFilter {
  kind?: KnowledgeKind;
  tag?: string;
  agentId?: string;
  taskId?: string;
  minConfidence?: number;
  text?: string;
}

export type KnowledgePatch = Partial<Pick<Knowledge, 'kind' | 'content' | 'confidence' | 'tags'>>;

/** Where a knowledge item came from: the ends of its provenance edges (null when none). */
export interface KnowledgeLinks {
  knowledgeId: string;
  agentId: string | null;
  taskId: string | null;
  supersedesId: string | null;
}

/** tagText is what the full-text index `knowledge_text` sees of the tags. */
const tagText = (tags: string[]) => tags.join(' ');

/** Creates the items with their provenance edges; returns them in input order. */
export async function createKnowledge(
  tx: Tx,
  tenantId: string,
  items: NewKnowledge[],
): Promise<Knowledge[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $items AS k
      CREATE (n:Knowledge {id: k.id, tenantId: $tenantId, kind: k.kind, content: k.content,
                           confidence: k.confidence, tags: k.tags, tagText: k.tagText,
                           createdAt: datetime(), updatedAt: datetime()})
      WITH n, k
      CALL (n, k) {
        MATCH (a:Agent {tenantId: $tenantId, id: k.agentId}) USING INDEX SEEK a:Agent(id)
        CREATE (n)-[:CONTRIBUTED_BY]->(a)
      }
      CALL (n, k) {
        MATCH (t:Task {tenantId: $tenantId, id: k.taskId}) USING INDEX SEEK t:Task(id)
        CREATE (n)-[:LEARNED_FROM]->(t)
      }
      CALL (n, k) {
        MATCH (old:Knowledge {tenantId: $tenantId, id: k.supersedesId})
        USING INDEX SEEK old:Knowledge(id)
        CREATE (n)-[:SUPERSEDES]->(old)
      }
      RETURN n`,
    params: {
      tenantId,
      items: items.map((k) => ({ ...k, id: randomUUID(), tagText: tagText(k.tags) })),
    },
  });
  return rows.map((r) => toKnowledge(r.n));
}

/** Sets the given fields (and tagText with tags); null when the item is unknown. */
export async function patchKnowledge(
  tx: Tx,
  tenantId: string,
  id: string,
  patch: KnowledgePatch,
): Promise<Knowledge | null> {
  const props: Record<string, unknown> = { ...patch };
  if (patch.tags) props.tagText = tagText(patch.tags);
  const [row] = await tx.run<{ n: NodeLike }>({
    cypher: `
      MATCH (n:Knowledge {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Knowledge(id)
      SET n += $props, n.updatedAt = datetime()
      RETURN n`,
    params: { tenantId, id, props },
  });
  return row ? toKnowledge(row.n) : null;
}

/** Deletes the item and its edges; false when it did not exist. */
export async function deleteKnowledge(tx: Tx, tenantId: string, id: string): Promise<boolean> {
  const [row] = await tx.run<{ deleted: number }>({
    cypher: `
      OPTIONAL MATCH (n:Knowledge {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:Knowledge(id)
      DETACH DELETE n
      RETURN count(n) AS deleted`,
    params: { tenantId, id },
  });
  return (row?.deleted ?? 0) > 0;
}

/** For the DataLoader: items by id, any order; unknown ids are simply absent. */
export async function knowledgeByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Knowledge[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher:
      'UNWIND $ids AS id MATCH (n:Knowledge {tenantId: $tenantId, id: id}) USING INDEX SEEK n:Knowledge(id) RETURN n',
    params: { tenantId, ids },
  });
  return rows.map((r) => toKnowledge(r.n));
}

/** For the DataLoader: the provenance of each item, one row per known id. */
export async function linksByKnowledgeIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<KnowledgeLinks[]> {
  return tx.run<{
    knowledgeId: string;
    agentId: string | null;
    taskId: string | null;
    supersedesId: string | null;
  }>({
    cypher: `
      UNWIND $ids AS knowledgeId
      MATCH (n:Knowledge {tenantId: $tenantId, id: knowledgeId}) USING INDEX SEEK n:Knowledge(id)
      RETURN knowledgeId,
        COLLECT { MATCH (n)-[:CONTRIBUTED_BY]->(a:Agent) RETURN a.id LIMIT 1 }[0] AS agentId,
        COLLECT { MATCH (n)-[:LEARNED_FROM]->(t:Task) RETURN t.id LIMIT 1 }[0] AS taskId,
        COLLECT { MATCH (n)-[:SUPERSEDES]->(k:Knowledge) RETURN k.id LIMIT 1 }[0] AS supersedesId`,
    params: { tenantId, ids },
  });
}

export function listKnowledge(
  tx: Tx,
  tenantId: string,
  filter: KnowledgeFilter,
  sort: Sort,
  page: PageRequest,
): Promise<Page<Knowledge>> {
  const conditions: string[] = [];
  if (filter.kind) conditions.push('n.kind = $kind');
  if (filter.tag) conditions.push('$tag IN n.tags');
  if (filter.minConfidence !== undefined) conditions.push('n.confidence >= $minConfidence');
  if (filter.text) {
    conditions.push(
      '(toLower(n.content) CONTAINS toLower($text) OR toLower(n.tagText) CONTAINS toLower($text))',
    );
  }
  return readPage(
    tx,
    {
      label: 'Knowledge',
      // What one task taught, from the task (page-direct.ts: walkFrom); an agent's from the
      // agent when it holds few.
      match: filter.taskId
        ? walkFrom({ label: 'Task', id: 'taskId' }, '<-[:LEARNED_FROM]-', 'Knowledge')
        : undefined,
      // One kind from its (tenantId, kind) index when few (page-direct.ts: OneOf).
      oneOf: filter.kind ? { property: 'kind', param: 'kinds' } : undefined,
      linked: filter.agentId
        ? [
            {
              from: { label: 'Agent', id: 'agentId' },
              edges: ['<-[:CONTRIBUTED_BY]-'],
              test: 'EXISTS { (n)-[:CONTRIBUTED_BY]->(a) WHERE a.id = $agentId }',
            },
          ]
        : undefined,
      conditions,
      params: { tenantId, ...filter, kinds: [filter.kind] },
      sort,
      page,
    },
    toKnowledge,
  );
}

/** Full-text hits in the tenant, best first; `text` is the user's, escaped in graph/fulltext. */
export async function searchKnowledge(
  tx: Tx,
  tenantId: string,
  text: string,
  limit: number,
): Promise<{ score: number; knowledge: Knowledge }[]> {
  const rows = await tx.run<{ node: NodeLike; score: number }>(
    fulltextSearchQuery('knowledge_text', tenantId, text, limit),
  );
  return rows.map((r) => ({ score: r.score, knowledge: toKnowledge(r.node) }));
}
