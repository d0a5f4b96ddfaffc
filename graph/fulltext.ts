import neo4j from 'neo4j-driver';
import type { CypherQuery } from './cypher.js';

/** The full-text indexes (graph/migrations.ts); the only index names ever spliced into Cypher. */
export const FULLTEXT_INDEXES = ['knowledge_text', 'task_text', 'message_text'] as const;
export type FulltextIndex = (typeof FULLTEXT_INDEXES)[number];

/** Lucene's special characters: + - && || ! ( ) { } [ ] ^ " ~ * ? : \ / (& and | one by one). */
const SPECIAL = /[+\-&|!(){}[\]^"~*?:\\/]/g;

/** Upper-case words the classic Lucene parser reads as operators. */
const OPERATOR_WORDS = /\b(AND|OR|NOT|TO)\b/g;

/**
 * Turns user text into a Lucene query that matches its words (any of them; more matches rank
 * higher) and has no syntax of its own: every special character is escaped and the operator
 * words are lower-cased (the index's analyzer lower-cases terms anyway), so any string parses.
 * Text with no letters or digits yields "" (nothing to search for).
 */
export function luceneQuery(text: string): string {
  if (!/[\p{L}\p{N}]/u.test(text)) return '';
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(OPERATOR_WORDS, (word) => word.toLowerCase())
    .replace(SPECIAL, (ch) => `\\${ch}`);
}

/**
 * Hits of `index` for the user's `text` within one tenant, best first (ties by id), as rows
 * `{ node, score }`. Callers skip the query when luceneQuery(text) is "".
 */
export function fulltextSearchQuery(
  index: FulltextIndex,
  tenantId: string,
  text: string,
  limit: number,
): CypherQuery {
  if (!FULLTEXT_INDEXES.includes(index)) throw new Error(`not a full-text index: ${index}`);
  return {
    cypher: `
      CALL db.index.fulltext.queryNodes($index, $query) YIELD node, score
      WHERE node.tenantId = $tenantId
      RETURN node, score
      ORDER BY score DESC, node.id
      LIMIT $limit`,
    params: { index, query: luceneQuery(text), tenantId, limit: neo4j.int(limit) },
  };
}
