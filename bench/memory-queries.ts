import type { Graph } from '../graph/graph.js';
import type { Tx } from '../graph/cypher.js';
import { deleteTenantNodes } from './queries.js';

/** The memory benchmark's own statements (checks, the baseline's texts, clean-up), by tenant. */

/** Marks bulk-made episodes INGESTED in their creating transaction: no queue ever sees them. */
export async function markBulkIngested(tx: Tx, tenantId: string, ids: string[]): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $ids AS id
      MATCH (e:Episode {tenantId: $tenantId, id: id})
      SET e.status = 'INGESTED', e.ingestedAt = datetime()`,
    params: { tenantId, ids },
  });
}

/** How much memory a tenant holds. */
export type MemoryCounts = {
  entities: number;
  merged: number;
  facts: number;
  currentFacts: number;
  episodes: number;
};

export async function memoryCounts(graph: Graph, tenantId: string): Promise<MemoryCounts> {
  const [row] = await graph.read((tx) =>
    tx.run<MemoryCounts>({
      cypher: `
        CALL () { MATCH (n:Entity {tenantId: $tenantId})
          RETURN count(n) AS entities, count(n.mergedInto) AS merged }
        CALL () { MATCH (f:Fact {tenantId: $tenantId})
          RETURN count(f) AS facts,
                 count(CASE WHEN f.expiredAt IS NULL AND f.validUntil IS NULL THEN 1 END) AS currentFacts }
        CALL () { MATCH (e:Episode {tenantId: $tenantId}) RETURN count(e) AS episodes }
        RETURN entities, merged, facts, currentFacts, episodes`,
      params: { tenantId },
    }),
  );
  return row!;
}

/** Model calls as the graph records them: episodes' modelCalls and the :LLMCall nodes. */
export async function recordedModelCalls(
  graph: Graph,
  tenantId: string,
): Promise<{ episodeModelCalls: number; llmCalls: number; ingested: number }> {
  const [row] = await graph.read((tx) =>
    tx.run<{ episodeModelCalls: number; llmCalls: number; ingested: number }>({
      cypher: `
        CALL () { MATCH (e:Episode {tenantId: $tenantId, status: 'INGESTED'})
          RETURN sum(e.modelCalls) AS episodeModelCalls, count(e) AS ingested }
        CALL () { MATCH (c:LLMCall {tenantId: $tenantId}) WHERE c.purpose = 'memory'
          RETURN count(c) AS llmCalls }
        RETURN episodeModelCalls, llmCalls, ingested`,
      params: { tenantId },
    }),
  );
  return row!;
}

/** The text a hit shows of each node (as searchMemory's hits do), for the baseline's hits. */
export async function textsOf(
  graph: Graph,
  tenantId: string,
  refs: { label: string; id: string }[],
): Promise<Map<string, string>> {
  const rows = await graph.read((tx) =>
    tx.run<{ id: string; text: string }>({
      cypher: `
        UNWIND $refs AS ref
        CALL (ref) {
          MATCH (n:Entity {id: ref.id}) WHERE ref.label = 'Entity' RETURN n
          UNION MATCH (n:Fact {id: ref.id}) WHERE ref.label = 'Fact' RETURN n
          UNION MATCH (n:Episode {id: ref.id}) WHERE ref.label = 'Episode' RETURN n
        }
        WITH ref, n WHERE n.tenantId = $tenantId
        RETURN n.id AS id, CASE ref.label
          WHEN 'Entity' THEN n.name + ' (' + coalesce(n.type, 'Thing') + '): ' + coalesce(n.summary, '')
          WHEN 'Fact' THEN n.text
          ELSE n.content END AS text`,
      params: { tenantId, refs },
    }),
  );
  return new Map(rows.map((r) => [r.id, r.text ?? '']));
}

/**
 * Deletes a tenant's memory in batches (100k facts with their edges would not fit one
 * transaction's time limit), then the rest of its nodes. Returns how many nodes went.
 */
export async function deleteMemoryTenant(graph: Graph, tenantId: string): Promise<number> {
  if (!tenantId) throw new Error('deleteMemoryTenant needs a tenant id');
  let deleted = 0;
  for (const label of ['Fact', 'Episode', 'Entity', 'LLMCall']) {
    for (;;) {
      const [row] = await graph.write((tx) =>
        tx.run<{ n: number }>({
          cypher: `
            MATCH (n:${label} {tenantId: $tenantId}) WITH n LIMIT 5000
            DETACH DELETE n RETURN count(*) AS n`,
          params: { tenantId },
        }),
      );
      const n = Number(row?.n ?? 0);
      deleted += n;
      if (n === 0) break;
    }
  }
  return deleted + (await deleteTenantNodes(graph, tenantId));
}

/** Every fact text of a tenant, current and ended (small tenants only: the corpus). */
export async function allFactTexts(graph: Graph, tenantId: string): Promise<string[]> {
  const rows = await graph.read((tx) =>
    tx.run<{ text: string }>({
      cypher: 'MATCH (f:Fact {tenantId: $tenantId}) RETURN f.text AS text',
      params: { tenantId },
    }),
  );
  return rows.map((r) => r.text ?? '');
}

/** The tenant's entity merges: who went into whom, and why (resolution's own words). */
export async function mergesOf(
  graph: Graph,
  tenantId: string,
): Promise<{ from: string; into: string; reason: string }[]> {
  return graph.read((tx) =>
    tx.run<{ from: string; into: string; reason: string }>({
      cypher: `
        MATCH (a:Entity {tenantId: $tenantId})-[m:MERGED_INTO]->(b:Entity {tenantId: $tenantId})
        RETURN a.name AS from, b.name AS into, coalesce(m.reason, '') AS reason
        ORDER BY from, into`,
      params: { tenantId },
    }),
  );
}
