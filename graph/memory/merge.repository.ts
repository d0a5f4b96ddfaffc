import type { Tx } from '../cypher.js';
import { lockAndBump } from '../locks.js';

/** What a merge moved, kept on its MERGED_INTO edge so that unmergeEntity can move it back. */
export type MergeResult = {
  fromId: string;
  intoId: string;
  moved: number;
};

/**
 * Takes the write locks of these entities, in id order, held until the commit. A merge needs
 * both entities unmerged, and two merges that read them so before either wrote (a into b and
 * b into a, or a into b and b into c) both went through: locked first, the second reads the
 * first's commit. Id order, so two lockers never wait on each other in a circle.
 */
export async function lockEntities(tx: Tx, tenantId: string, ids: string[]): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $ids AS id
      MATCH (e:Entity {tenantId: $tenantId, id: id}) USING INDEX SEEK e:Entity(id)
      WITH e ORDER BY e.id
      ${lockAndBump('e', 'Entity', 'mergeVersion')}`,
    params: { tenantId, ids: [...new Set(ids)].sort() },
  });
}

/**
 * Merges `fromId` into `intoId`: facts, mentions and knowledge links move to the survivor,
 * its name and aliases become the survivor's aliases, and `(from)-[:MERGED_INTO {reason, at,
 * by, ...what moved}]->(into)` records it. The merged entity keeps its node (mergedInto set).
 * Null when either is unknown, merged already, or both are one.
 */
export async function mergeEntity(
  tx: Tx,
  tenantId: string,
  fromId: string,
  intoId: string,
  reason: string,
  by: string,
): Promise<MergeResult | null> {
  const [row] = await tx.run<MergeResult>({
    cypher: `
      MATCH (from:Entity {tenantId: $tenantId, id: $fromId})
      USING INDEX SEEK from:Entity(id) WHERE from.mergedInto IS NULL
      MATCH (into:Entity {tenantId: $tenantId, id: $intoId})
      USING INDEX SEEK into:Entity(id) WHERE into.mergedInto IS NULL AND into <> from
      CALL (from, into) {
        OPTIONAL MATCH (f:Fact)-[r:SUBJECT]->(from)
        DELETE r
        FOREACH (_ IN CASE WHEN f IS NULL THEN [] ELSE [1] END | CREATE (f)-[:SUBJECT]->(into))
        RETURN collect(f.id) AS subjectFacts
      }
      CALL (from, into) {
        OPTIONAL MATCH (f:Fact)-[r:OBJECT]->(from)
        DELETE r
        FOREACH (_ IN CASE WHEN f IS NULL THEN [] ELSE [1] END | CREATE (f)-[:OBJECT]->(into))
        RETURN collect(f.id) AS objectFacts
      }
      CALL (from, into) {
        OPTIONAL MATCH (k:Knowledge)-[r:ABOUT]->(from)
        DELETE r
        FOREACH (_ IN CASE WHEN k IS NULL THEN [] ELSE [1] END | MERGE (k)-[:ABOUT]->(into))
        RETURN collect(k.id) AS knowledge
      }
      CALL (from, into) {
        OPTIONAL MATCH (from)-[r:MENTIONED_IN]->(e:Episode)
        WITH r, e,
          CASE WHEN e IS NULL THEN false ELSE NOT EXISTS { (into)-[:MENTIONED_IN]->(e) } END AS add
        DELETE r
        FOREACH (_ IN CASE WHEN add THEN [1] ELSE [] END | CREATE (into)-[:MENTIONED_IN]->(e))
        RETURN collect(e.id) AS episodes, collect(CASE WHEN add THEN e.id END) AS addedEpisodes
      }
      WITH from, into, subjectFacts, objectFacts, knowledge, episodes, addedEpisodes,
           [a IN [from.name] + from.aliases WHERE a <> into.name AND NOT a IN into.aliases] AS addedAliases
      CREATE (from)-[:MERGED_INTO {reason: $reason, by: $by, at: datetime(),
        subjectFacts: subjectFacts, objectFacts: objectFacts, knowledge: knowledge,
        episodes: episodes, addedEpisodes: addedEpisodes, addedAliases: addedAliases}]->(into)
      SET from.mergedInto = into.id, from.updatedAt = datetime(),
          into.aliases = into.aliases + addedAliases,
          into.aliasText = reduce(t = coalesce(into.aliasText, ''), a IN addedAliases | t + ' | ' + a),
          into.updatedAt = datetime()
      RETURN from.id AS fromId, into.id AS intoId,
        size(subjectFacts) + size(objectFacts) + size(knowledge) + size(episodes) AS moved`,
    params: { tenantId, fromId, intoId, reason, by },
  });
  return row ?? null;
}

/**
 * Undoes the merge of `id`: what its MERGED_INTO edge says was moved goes back (facts,
 * mentions, knowledge links, aliases), the edge is removed and the entity stands alone again.
 * Facts recorded against the survivor after the merge stay with the survivor. Null when the
 * entity is unknown or not merged.
 */
export async function unmergeEntity(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<MergeResult | null> {
  const [row] = await tx.run<MergeResult>({
    cypher: `
      MATCH (from:Entity {tenantId: $tenantId, id: $id})-[m:MERGED_INTO]->(into:Entity)
      USING INDEX SEEK from:Entity(id)
      CALL (from, into, m) {
        UNWIND m.subjectFacts AS fid
        MATCH (f:Fact {id: fid})-[r:SUBJECT]->(into)
        DELETE r CREATE (f)-[:SUBJECT]->(from)
        RETURN count(*) AS subjects
      }
      CALL (from, into, m) {
        UNWIND m.objectFacts AS fid
        MATCH (f:Fact {id: fid})-[r:OBJECT]->(into)
        DELETE r CREATE (f)-[:OBJECT]->(from)
        RETURN count(*) AS objects
      }
      CALL (from, into, m) {
        UNWIND m.knowledge AS kid
        MATCH (k:Knowledge {id: kid})
        OPTIONAL MATCH (k)-[r:ABOUT]->(into)
        DELETE r MERGE (k)-[:ABOUT]->(from)
        RETURN count(*) AS knowledge
      }
      CALL (from, into, m) {
        UNWIND m.episodes AS eid
        MATCH (e:Episode {id: eid})
        MERGE (from)-[:MENTIONED_IN]->(e)
        WITH e, into, m WHERE e.id IN m.addedEpisodes
        OPTIONAL MATCH (into)-[r:MENTIONED_IN]->(e)
        DELETE r
        RETURN count(*) AS episodes
      }
      WITH from, into, m, m.addedAliases AS added,
        size(m.subjectFacts) + size(m.objectFacts) + size(m.knowledge) + size(m.episodes) AS moved
      DELETE m
      SET from.mergedInto = null, from.updatedAt = datetime(),
          into.aliases = [a IN into.aliases WHERE NOT a IN added],
          into.updatedAt = datetime()
      SET into.aliasText = reduce(t = '', a IN into.aliases | t + CASE t WHEN '' THEN '' ELSE ' | ' END + a)
      RETURN from.id AS fromId, into.id AS intoId, moved`,
    params: { tenantId, id },
  });
  return row ?? null;
}
