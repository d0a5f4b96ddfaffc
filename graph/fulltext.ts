import neo4j from 'neo4j-driver';
import type { CypherQuery } from './cypher.js';

/**
 * The full-text indexes (graph/migrations.ts) and the text properties a user's words are
 * looked for in. Each index also holds `tenantId`, so that the tenant is part of the Lucene
 * query itself (as Graphiti does with group_id): the index reads only the tenant's documents.
 */
export const FULLTEXT_FIELDS = {
  knowledge_text: ['content', 'tagText'],
  task_text: ['title', 'description', 'result'],
  message_text: ['content'],
  memory_text: ['name', 'aliasText', 'summary', 'text', 'content'],
} as const;
export type FulltextIndex = keyof typeof FULLTEXT_FIELDS;
/** The only index names ever spliced into Cypher. */
export const FULLTEXT_INDEXES = Object.keys(FULLTEXT_FIELDS) as FulltextIndex[];

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

/** English words too common to tell documents apart (Lucene's classic stop set, and question words). */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for if in into is it no not of on or such that the their then ' +
    'there these they this to was will with what who whom which when where why how does did do ' +
    'has have had was were been being its from about'
  ).split(' '),
);

/**
 * The text without stop words, for indexes whose analyzer keeps them (standard-no-stop-words):
 * "what is the revenue of Acme" -> "revenue Acme", so a question's small words do not make
 * every document of the tenant a hit. Text with no other word (`to be`, `the "`) stays as it
 * is: punctuation alone would make an empty query.
 */
export function withoutStopWords(text: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  const kept = words.filter((w) => !STOP_WORDS.has(w.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')));
  return kept.some((w) => /[\p{L}\p{N}]/u.test(w)) ? kept.join(' ') : text;
}

/**
 * The Lucene query for `query` (already escaped, e.g. by luceneQuery) over the text fields of
 * `index`, within one tenant: `+tenantId:"<tenant>" +(title:(...) description:(...) ...)`.
 * The text fields are named because an unqualified word would also match tenantId's tokens.
 */
export function tenantLuceneQuery(index: FulltextIndex, tenantId: string, query: string): string {
  if (!Object.hasOwn(FULLTEXT_FIELDS, index)) throw new Error(`not a full-text index: ${index}`);
  const tenant = tenantId.replace(/["\\]/g, (ch) => `\\${ch}`);
  const fields = FULLTEXT_FIELDS[index].map((field) => `${field}:(${query})`).join(' ');
  return `+tenantId:"${tenant}" +(${fields})`;
}

/**
 * The call that reads the full-text index `index` (a Cypher expression) for the Lucene `query`,
 * yielding `node` and `score`: the only way statements read one. The indexes are eventually
 * consistent (migration 37): a commit leaves their Lucene updates to a background thread
 * instead of applying them and refreshing the index before it returns, which cost 2.5–3.3 ms
 * of the commit of every write of a task, a message, a knowledge item or a memory episode (a
 * step's end makes two). The statement first waits for the updates of the commits before it,
 * so a search still sees everything committed before it (test/fulltext-consistency.int.test.ts),
 * though not the uncommitted writes of its own transaction (no statement searches what it
 * wrote).
 */
export function fulltextNodes(index: string, query: string): string {
  return `CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()
      CALL db.index.fulltext.queryNodes(${index}, ${query})`;
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
  return {
    // The filter stays: a phrase of the tenant's tokens is exact enough to bound the work,
    // the property check makes it exact.
    cypher: `
      ${fulltextNodes('$index', '$query')} YIELD node, score
      WHERE node.tenantId = $tenantId
      RETURN node, score
      ORDER BY score DESC, node.id
      LIMIT $limit`,
    params: {
      index,
      query: tenantLuceneQuery(index, tenantId, luceneQuery(text)),
      tenantId,
      limit: neo4j.int(limit),
    },
  };
}
