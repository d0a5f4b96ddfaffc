import neo4j from 'neo4j-driver';
import type { Entity } from '../../src/domain/memory.js';
import type { MemoryView } from '../../src/domain/memory-search.js';
import type { Page, PageRequest } from '../../src/domain/page.js';
import type { Tx } from '../cypher.js';
import { readPage, type NodeLike, type Sort } from '../page.js';
import { toEntity } from './mappers.js';
import { viewCondition, viewParams } from './view.js';

export interface NewEntity {
  id: string;
  name: string;
  normName: string;
  type: string;
  summary: string;
  aliases: string[];
}

/** What the full-text index sees of the aliases. */
const aliasText = (aliases: string[]) => aliases.join(' | ');

/** MERGEs the entities by id (a retried ingestion writes the same ids) and returns them. */
export async function createEntities(
  tx: Tx,
  tenantId: string,
  entities: NewEntity[],
): Promise<Entity[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $entities AS x
      MERGE (n:Entity {id: x.id})
      ON CREATE SET n.tenantId = $tenantId, n.name = x.name, n.normName = x.normName,
        n.type = x.type, n.summary = x.summary, n.aliases = x.aliases, n.aliasText = x.aliasText,
        n.createdAt = datetime(), n.updatedAt = datetime()
      WITH n WHERE n.tenantId = $tenantId
      RETURN n`,
    params: {
      tenantId,
      entities: entities.map((e) => ({ ...e, aliasText: aliasText(e.aliases) })),
    },
  });
  return rows.map((r) => toEntity(r.n));
}

/** Adds names an entity is also known by, and a longer summary when one arrives. */
export async function enrichEntities(
  tx: Tx,
  tenantId: string,
  updates: { id: string; aliases: string[]; summary: string | null }[],
): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $updates AS u
      MATCH (n:Entity {tenantId: $tenantId, id: u.id}) USING INDEX SEEK n:Entity(id)
      WITH n, u, [a IN u.aliases WHERE a <> n.name AND NOT a IN n.aliases] AS added
      SET n.aliases = n.aliases + added,
          n.aliasText = reduce(t = n.aliasText, a IN added | t + ' | ' + a),
          n.summary = CASE WHEN u.summary IS NOT NULL AND size(u.summary) > size(coalesce(n.summary, ''))
                           THEN u.summary ELSE n.summary END,
          n.updatedAt = datetime()`,
    params: { tenantId, updates },
  });
}

/** Records that each episode mentions the entities (idempotent). */
export async function addMentions(
  tx: Tx,
  tenantId: string,
  mentions: { episodeId: string; entityId: string }[],
): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $mentions AS m
      MATCH (n:Entity {tenantId: $tenantId, id: m.entityId}) USING INDEX SEEK n:Entity(id)
      MATCH (e:Episode {tenantId: $tenantId, id: m.episodeId})
      MERGE (n)-[:MENTIONED_IN]->(e)`,
    params: { tenantId, mentions },
  });
}

/** The entities by id that `view` may see (without one: all of them). */
export async function entitiesByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  view?: MemoryView,
): Promise<Entity[]> {
  const seen = viewCondition(view, 'Entity', 'n');
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $ids AS id MATCH (n:Entity {tenantId: $tenantId, id: id})
      USING INDEX SEEK n:Entity(id)
      ${seen ? `WHERE ${seen}` : ''} RETURN n`,
    params: { tenantId, ids, ...viewParams(view) },
  });
  return rows.map((r) => toEntity(r.n));
}

/** The tenant's standing (not merged) entities with one of these normalised names. */
export async function entitiesByNormNames(
  tx: Tx,
  tenantId: string,
  normNames: readonly string[],
): Promise<Entity[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $normNames AS norm
      MATCH (n:Entity {tenantId: $tenantId, normName: norm})
      WHERE n.mergedInto IS NULL
      RETURN n ORDER BY n.createdAt, n.id`,
    params: { tenantId, normNames },
  });
  return rows.map((r) => toEntity(r.n));
}

export interface EntityFilter {
  type?: string;
  text?: string;
  includeMerged?: boolean;
}

/** The tenant's entities that `view` may see, as a page. */
export function listEntities(
  tx: Tx,
  tenantId: string,
  filter: EntityFilter,
  sort: Sort,
  page: PageRequest,
  view?: MemoryView,
): Promise<Page<Entity>> {
  const conditions: string[] = [];
  const seen = viewCondition(view, 'Entity', 'n');
  if (seen) conditions.push(seen);
  if (!filter.includeMerged) conditions.push('n.mergedInto IS NULL');
  if (filter.type) conditions.push('n.type = $type');
  if (filter.text) {
    conditions.push(
      '(toLower(n.name) CONTAINS toLower($text) OR toLower(n.aliasText) CONTAINS toLower($text))',
    );
  }
  return readPage(
    tx,
    {
      label: 'Entity',
      // One type's entities from its (tenantId, type) index when few (page-direct.ts: OneOf).
      oneOf: filter.type ? { property: 'type', param: 'types' } : undefined,
      conditions,
      params: { tenantId, ...filter, types: [filter.type], ...viewParams(view) },
      sort,
      page,
    },
    toEntity,
  );
}

/**
 * Entities one current fact away, by how many current facts join them (most first): those
 * `view` may see, over facts it may see.
 */
export async function entityNeighbours(
  tx: Tx,
  tenantId: string,
  entityId: string,
  limit: number,
  view?: MemoryView,
): Promise<{ entity: Entity; facts: number }[]> {
  const seen = [viewCondition(view, 'Fact', 'f'), viewCondition(view, 'Entity', 'n')];
  const rows = await tx.run<{ n: NodeLike; facts: number }>({
    cypher: `
      MATCH (e:Entity {tenantId: $tenantId, id: $entityId})<-[:SUBJECT|OBJECT]-(f:Fact)
            -[:SUBJECT|OBJECT]->(n:Entity)
      USING INDEX SEEK e:Entity(id)
      WHERE n <> e AND f.expiredAt IS NULL AND f.validUntil IS NULL
        ${seen.map((c) => (c ? `AND ${c}` : '')).join(' ')}
      RETURN n, count(f) AS facts ORDER BY facts DESC, n.name, n.id LIMIT $limit`,
    params: { tenantId, entityId, limit: neo4j.int(limit), ...viewParams(view) },
  });
  return rows.map((r) => ({ entity: toEntity(r.n), facts: r.facts }));
}

/**
 * The normalised names at the other ends of each entity's current facts: what
 * neighbourhood-overlap resolution compares. Keyed by entity id.
 */
export async function neighbourNames(
  tx: Tx,
  tenantId: string,
  entityIds: readonly string[],
): Promise<Map<string, string[]>> {
  const rows = await tx.run<{ id: string; neighbours: string[] }>({
    cypher: `
      UNWIND $entityIds AS id
      MATCH (e:Entity {tenantId: $tenantId, id: id}) USING INDEX SEEK e:Entity(id)
      RETURN id, COLLECT {
        MATCH (e)<-[:SUBJECT|OBJECT]-(f:Fact)-[:SUBJECT|OBJECT]->(n:Entity)
        WHERE n <> e AND f.expiredAt IS NULL
        RETURN DISTINCT n.normName LIMIT 200 } AS neighbours`,
    params: { tenantId, entityIds },
  });
  return new Map(rows.map((r) => [r.id, r.neighbours]));
}

/** For a DataLoader: the entities each episode mentions (MENTIONED_IN) that `view` may see. */
export async function entitiesOfEpisodes(
  tx: Tx,
  tenantId: string,
  episodeIds: readonly string[],
  view?: MemoryView,
): Promise<{ episodeId: string; entity: Entity }[]> {
  const seen = viewCondition(view, 'Entity', 'n');
  const rows = await tx.run<{ episodeId: string; n: NodeLike }>({
    cypher: `
      UNWIND $episodeIds AS episodeId
      MATCH (n:Entity)-[:MENTIONED_IN]->(:Episode {tenantId: $tenantId, id: episodeId})
      ${seen ? `WHERE ${seen}` : ''}
      RETURN episodeId, n ORDER BY n.name, n.id`,
    params: { tenantId, episodeIds, ...viewParams(view) },
  });
  return rows.map((r) => ({ episodeId: r.episodeId, entity: toEntity(r.n) }));
}
