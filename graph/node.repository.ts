import type { Tx } from './cypher.js';
import { fulltextSearchQuery, type FulltextIndex } from './fulltext.js';
import { toAgent, toConversation, toKnowledge, toMessage, toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { toEntity, toEpisode } from './memory/mappers.js';
import { viewCondition, viewParams } from './memory/view.js';
import type { MemoryView } from '../src/domain/memory-search.js';

/** Labels that node(id) and search can return, each with its mapper. */
const MAPPERS = {
  Agent: toAgent,
  Task: toTask,
  Message: toMessage,
  Conversation: toConversation,
  Knowledge: toKnowledge,
  Entity: toEntity,
  Episode: toEpisode,
} as const;
export type NodeLabel = keyof typeof MAPPERS;

export interface TypedNode {
  __typename: NodeLabel;
  id: string;
  [field: string]: unknown;
}

function typed(label: NodeLabel, node: NodeLike): TypedNode {
  return { __typename: label, ...MAPPERS[label](node) };
}

/**
 * Any node of the tenant by id (each label's unique index is used), or null; an entity or an
 * episode only when `view` may see it.
 */
export async function nodeById(
  tx: Tx,
  tenantId: string,
  id: string,
  view?: MemoryView,
): Promise<TypedNode | null> {
  const branches = Object.keys(MAPPERS).map((label) => {
    const seen = label === 'Entity' || label === 'Episode' ? viewCondition(view, label, 'n') : null;
    return `MATCH (n:${label} {tenantId: $tenantId, id: $id}) USING INDEX SEEK n:${label}(id)
       ${seen ? `WHERE ${seen}` : ''} RETURN n, '${label}' AS label`;
  });
  const [row] = await tx.run<{ n: NodeLike; label: NodeLabel }>({
    cypher: `CALL () { ${branches.join(' UNION ')} } RETURN n, label LIMIT 1`,
    params: { tenantId, id, ...viewParams(view) },
  });
  return row ? typed(row.label, row.n) : null;
}

const INDEXES: [FulltextIndex, NodeLabel][] = [
  ['task_text', 'Task'],
  ['message_text', 'Message'],
  ['knowledge_text', 'Knowledge'],
];

/** Full-text hits across tasks, messages and knowledge of the tenant, best first. */
export async function searchAll(
  tx: Tx,
  tenantId: string,
  text: string,
  limit: number,
): Promise<{ score: number; node: TypedNode }[]> {
  const hits: { score: number; node: TypedNode }[] = [];
  for (const [index, label] of INDEXES) {
    const rows = await tx.run<{ node: NodeLike; score: number }>(
      fulltextSearchQuery(index, tenantId, text, limit),
    );
    hits.push(...rows.map((r) => ({ score: r.score, node: typed(label, r.node) })));
  }
  return hits
    .sort((a, b) => b.score - a.score || a.node.id.localeCompare(b.node.id))
    .slice(0, limit);
}
