import { createHash } from 'node:crypto';
import neo4j from 'neo4j-driver';
import type { Graph } from '../graph.js';
import type { CypherQuery, Tx } from '../cypher.js';

/** What vector functions need of an embedder (src/memory/embeddings/embedder.ts). */
export interface VectorSpace {
  readonly id: string;
  readonly dimensions: number;
}

/** The labels that carry vectors, and the text each one embeds. */
export const VECTOR_LABELS = ['Entity', 'Fact', 'Episode'] as const;
export type VectorLabel = (typeof VECTOR_LABELS)[number];

/** The embedded text of each label, as a Cypher expression over `n` (the contract's). */
const TEXT_OF: Readonly<Record<VectorLabel, string>> = Object.freeze({
  Entity: "coalesce(n.name, '') + ': ' + coalesce(n.summary, '')",
  Fact: "coalesce(n.text, '')",
  Episode: "coalesce(n.content, '')",
});

function label(value: string): VectorLabel {
  if (!(VECTOR_LABELS as readonly string[]).includes(value)) {
    throw new Error(`not a label with vectors: ${value} (expected ${VECTOR_LABELS.join(', ')})`);
  }
  return value as VectorLabel;
}

/**
 * The node property holding an embedder's vectors: `vec_` and its id reduced to [a-z0-9_]
 * (e.g. `vec_local_all_minilm_l6_v2_384`), so two models never share a property or an index.
 * Long ids are cut and given a hash of the whole id, so they stay distinct.
 */
export function vectorProperty(embedder: VectorSpace): string {
  const slug = embedder.id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug.length <= 60) return `vec_${slug}`;
  const hash = createHash('sha256').update(embedder.id).digest('hex').slice(0, 10);
  return `vec_${slug.slice(0, 49)}_${hash}`;
}

/** The vector index of one label and embedder, e.g. `entity_vec_local_all_minilm_l6_v2_384`. */
export function vectorIndexName(labelName: string, embedder: VectorSpace): string {
  return `${label(labelName).toLowerCase()}_${vectorProperty(embedder)}`;
}

/** Only these characters are ever spliced into Cypher (names cannot be parameters). */
function safe(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe name for Cypher: ${name}`);
  return name;
}

function dimensions(embedder: VectorSpace): number {
  const d = embedder.dimensions;
  if (!Number.isInteger(d) || d < 1 || d > 4096) throw new Error(`bad vector size: ${d}`);
  return d;
}

/** The CREATE VECTOR INDEX statement of one label (idempotent). */
export function createVectorIndexCypher(labelName: string, embedder: VectorSpace): string {
  const index = safe(vectorIndexName(labelName, embedder));
  const prop = safe(vectorProperty(embedder));
  return (
    `CREATE VECTOR INDEX ${index} IF NOT EXISTS FOR (n:${label(labelName)}) ON n.${prop} ` +
    `OPTIONS {indexConfig: {\`vector.dimensions\`: ${dimensions(embedder)}, \`vector.similarity_function\`: 'cosine'}}`
  );
}

/**
 * Makes the vector indexes of the embedder (one per label) and waits until they are online.
 * Safe to run from several processes at once.
 */
export async function ensureVectorIndexes(graph: Graph, embedder: VectorSpace): Promise<void> {
  for (const l of VECTOR_LABELS) {
    const cypher = createVectorIndexCypher(l, embedder);
    // Two processes starting at once may race on IF NOT EXISTS; the loser's retry is a no-op.
    await graph.schema(cypher).catch(() => graph.schema(cypher));
  }
  for (const l of VECTOR_LABELS) {
    await graph.schema(`CALL db.awaitIndex('${safe(vectorIndexName(l, embedder))}', 300)`);
  }
}

/** Writes vectors onto the tenant's nodes of one label; ids of other tenants are ignored. */
export function setVectorsQuery(
  tenantId: string,
  labelName: string,
  rows: readonly { id: string; vector: readonly number[] }[],
  embedder: VectorSpace,
): CypherQuery {
  const prop = safe(vectorProperty(embedder));
  const d = dimensions(embedder);
  for (const row of rows) {
    if (row.vector.length !== d) {
      throw new Error(`vector of ${row.id} has ${row.vector.length} dimensions, expected ${d}`);
    }
  }
  return {
    cypher: `UNWIND $rows AS row
MATCH (n:${label(labelName)} {id: row.id})
WHERE n.tenantId = $tenantId
SET n.${prop} = row.vector`,
    params: { tenantId, rows: rows.map((r) => ({ id: r.id, vector: [...r.vector] })) },
  };
}

export async function setVectors(
  tx: Tx,
  tenantId: string,
  labelName: string,
  rows: readonly { id: string; vector: readonly number[] }[],
  embedder: VectorSpace,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.run(setVectorsQuery(tenantId, labelName, rows, embedder));
}

export interface VectorHit {
  id: string;
  /** Neo4j's cosine score: (1 + cosine) / 2, from 0 to 1. */
  score: number;
}

/** How many index neighbours to ask for to find k of one tenant's: the index holds all tenants. */
export function overFetch(k: number): number {
  return Math.min(10_000, Math.max(100, k * 10));
}

/**
 * The k nodes of the tenant's label nearest to `vector`, best first. The shared vector index is
 * asked for an over-fetch and filtered to the tenant; when that yields fewer than k of the
 * tenant's rows (another tenant's rows crowd the neighbourhood, or the tenant has few), an
 * exact scan of the tenant's own rows answers instead, so one tenant's size never hides another
 * tenant's hits. That scan reads only the tenant's nodes.
 */
export async function vectorSearch(
  tx: Tx,
  tenantId: string,
  labelName: string,
  embedder: VectorSpace,
  vector: readonly number[],
  k: number,
): Promise<VectorHit[]> {
  if (k < 1) return [];
  if (vector.length !== dimensions(embedder)) {
    throw new Error(
      `query vector has ${vector.length} dimensions, expected ${embedder.dimensions}`,
    );
  }
  const index = vectorIndexName(labelName, embedder);
  const fromIndex = await tx.run<{ id: string; score: number }>({
    cypher: `CALL db.index.vector.queryNodes($index, $fetch, $vector) YIELD node, score
WHERE node.tenantId = $tenantId
RETURN node.id AS id, score
ORDER BY score DESC, id
LIMIT $k`,
    params: {
      index,
      fetch: neo4j.int(overFetch(k)),
      vector: [...vector],
      tenantId,
      k: neo4j.int(k),
    },
  });
  if (fromIndex.length >= k) return fromIndex;
  const prop = safe(vectorProperty(embedder));
  return tx.run<{ id: string; score: number }>({
    // The tenant's rows by its (tenantId, createdAt) index (every vector label has one, and
    // every such node a createdAt): a plain match scanned the label across all tenants.
    cypher: `MATCH (n:${label(labelName)})
USING INDEX SEEK n:${label(labelName)}(tenantId, createdAt)
WHERE n.tenantId = $tenantId AND n.createdAt IS NOT NULL AND n.${prop} IS NOT NULL
WITH n.id AS id, vector.similarity.cosine(n.${prop}, $vector) AS score
RETURN id, score
ORDER BY score DESC, id
LIMIT $k`,
    params: { vector: [...vector], tenantId, k: neo4j.int(k) },
  });
}

export type MissingVector = {
  id: string;
  tenantId: string;
  /** The text to embed (the contract's text of the label). */
  text: string;
};

/**
 * Up to `limit` nodes of the label (all tenants) without the embedder's vector, in id order
 * after `after`: re-embedding walks them by id, so a run that stops can start again anywhere.
 */
export function missingVectors(
  tx: Tx,
  labelName: string,
  embedder: VectorSpace,
  limit: number,
  after = '',
  /** Only this tenant's nodes; all tenants when unset. */
  tenantId?: string,
): Promise<MissingVector[]> {
  const prop = safe(vectorProperty(embedder));
  return tx.run<MissingVector>({
    cypher: `MATCH (n:${label(labelName)})
WHERE n.id > $after AND n.${prop} IS NULL AND n.tenantId IS NOT NULL
  AND ($tenantId IS NULL OR n.tenantId = $tenantId)
RETURN n.id AS id, n.tenantId AS tenantId, ${TEXT_OF[label(labelName)]} AS text
ORDER BY n.id
LIMIT $limit`,
    params: { after, limit: neo4j.int(limit), tenantId: tenantId ?? null },
  });
}

/** How many nodes of the label lack the embedder's vector (for a progress bar). */
export async function countMissingVectors(
  tx: Tx,
  labelName: string,
  embedder: VectorSpace,
  tenantId?: string,
): Promise<number> {
  const prop = safe(vectorProperty(embedder));
  const [row] = await tx.run<{ n: number }>({
    cypher: `MATCH (n:${label(labelName)})
WHERE n.${prop} IS NULL AND n.tenantId IS NOT NULL AND ($tenantId IS NULL OR n.tenantId = $tenantId)
RETURN count(n) AS n`,
    params: { tenantId: tenantId ?? null },
  });
  return row?.n ?? 0;
}
