import neo4j from 'neo4j-driver';
import type { Fact } from '../../src/domain/memory.js';
import type { MemoryView } from '../../src/domain/memory-search.js';
import type { Page, PageRequest } from '../../src/domain/page.js';
import type { Tx } from '../cypher.js';
import { readPage, type Sort } from '../page.js';
import { FACT_ROW, toFact, type FactRow } from './mappers.js';
import { viewCondition, viewParams } from './view.js';

export interface NewFact {
  id: string;
  subjectId: string;
  predicate: string;
  objectId: string | null;
  value: string;
  text: string;
  confidence: number;
  /** ISO time it began to hold in the world, when the episode says; null otherwise. */
  validFrom: string | null;
  /** The episodes it came from (FROM_EPISODE). */
  episodeIds: string[];
}

/** MERGEs the facts by id (a retried ingestion writes the same ids) with their edges. */
export async function createFacts(tx: Tx, tenantId: string, facts: NewFact[]): Promise<Fact[]> {
  const rows = await tx.run<FactRow>({
    cypher: `
      UNWIND $facts AS x
      MATCH (s:Entity {tenantId: $tenantId, id: x.subjectId}) USING INDEX SEEK s:Entity(id)
      MERGE (f:Fact {id: x.id})
      ON CREATE SET f.tenantId = $tenantId, f.predicate = x.predicate, f.value = x.value,
        f.text = x.text, f.confidence = x.confidence, f.validFrom = datetime(x.validFrom),
        f.recordedAt = datetime(), f.createdAt = datetime(), f.updatedAt = datetime()
      MERGE (f)-[:SUBJECT]->(s)
      WITH f, x
      CALL (f, x) {
        MATCH (o:Entity {tenantId: $tenantId, id: x.objectId})
        USING INDEX SEEK o:Entity(id) MERGE (f)-[:OBJECT]->(o)
      }
      CALL (f, x) {
        UNWIND x.episodeIds AS eid
        MATCH (e:Episode {tenantId: $tenantId, id: eid}) USING INDEX SEEK e:Episode(id) MERGE (f)-[:FROM_EPISODE]->(e)
      }
      RETURN ${FACT_ROW}`,
    params: { tenantId, facts },
  });
  return rows.map(toFact);
}

/** Adds an episode as one more source of facts already known (the same fact seen again). */
export async function confirmFacts(
  tx: Tx,
  tenantId: string,
  confirmations: { factId: string; episodeId: string }[],
): Promise<void> {
  await tx.run({
    cypher: `
      UNWIND $confirmations AS c
      MATCH (f:Fact {tenantId: $tenantId, id: c.factId})
      MATCH (e:Episode {tenantId: $tenantId, id: c.episodeId})
      MERGE (f)-[:FROM_EPISODE]->(e)
      SET f.updatedAt = datetime()`,
    params: { tenantId, confirmations },
  });
}

/** The current facts whose subject is one of these entities (contradiction candidates). */
export async function currentFactsOf(
  tx: Tx,
  tenantId: string,
  subjectIds: readonly string[],
): Promise<Fact[]> {
  const rows = await tx.run<FactRow>({
    cypher: `
      UNWIND $subjectIds AS sid
      MATCH (owner:Entity {tenantId: $tenantId, id: sid})<-[:SUBJECT]-(f:Fact) USING INDEX SEEK owner:Entity(id)
      WHERE f.expiredAt IS NULL AND f.validUntil IS NULL
      RETURN ${FACT_ROW}`,
    params: { tenantId, subjectIds },
  });
  return rows.map(toFact);
}

/**
 * Ends facts a newer one contradicts: valid until `validUntil` in the world, expired now in
 * the system, REPLACED_BY the new fact. Never deletes. Facts ended already are left alone.
 */
export async function endFacts(
  tx: Tx,
  tenantId: string,
  ends: { id: string; replacedById: string; validUntil: string | null }[],
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      UNWIND $ends AS x
      MATCH (old:Fact {tenantId: $tenantId, id: x.id}) WHERE old.expiredAt IS NULL
      MATCH (new:Fact {tenantId: $tenantId, id: x.replacedById})
      SET old.expiredAt = datetime(),
          old.validUntil = coalesce(old.validUntil, datetime(x.validUntil), datetime()),
          old.updatedAt = datetime()
      MERGE (old)-[:REPLACED_BY]->(new)
      RETURN count(old) AS n`,
    params: { tenantId, ends },
  });
  return Number(row?.n ?? 0);
}

/**
 * Cypher over the fact variable `f` for "valid and known at $asOf" (both times), or for
 * "current" without asOf.
 */
export function factTimeCondition(asOf: string | null, f = 'f'): string {
  if (asOf === null) return `${f}.expiredAt IS NULL AND ${f}.validUntil IS NULL`;
  return `${f}.recordedAt <= datetime($asOf)
    AND (${f}.expiredAt IS NULL OR ${f}.expiredAt > datetime($asOf))
    AND (${f}.validFrom IS NULL OR ${f}.validFrom <= datetime($asOf))
    AND (${f}.validUntil IS NULL OR ${f}.validUntil > datetime($asOf))`;
}

/** The facts by id that `view` may see (without one: all of them). */
export async function factsByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  view?: MemoryView,
): Promise<Fact[]> {
  const seen = viewCondition(view, 'Fact', 'f');
  const rows = await tx.run<FactRow>({
    cypher: `
      UNWIND $ids AS id MATCH (f:Fact {tenantId: $tenantId, id: id})
      USING INDEX SEEK f:Fact(id)
      ${seen ? `WHERE ${seen}` : ''} RETURN ${FACT_ROW}`,
    params: { tenantId, ids, ...viewParams(view) },
  });
  return rows.map(toFact);
}

/**
 * The facts about one entity (as subject or object) that `view` may see: `current` ones, or
 * the ended ones (`past`), or those valid and known at `asOf`. Newest first.
 */
export async function factsOfEntity(
  tx: Tx,
  tenantId: string,
  entityId: string,
  when: { asOf: string | null; past: boolean },
  limit: number,
  view?: MemoryView,
): Promise<Fact[]> {
  const time = when.past
    ? 'NOT (f.expiredAt IS NULL AND f.validUntil IS NULL)'
    : factTimeCondition(when.asOf);
  const seen = viewCondition(view, 'Fact', 'f');
  const condition = seen ? `${time} AND ${seen}` : time;
  const rows = await tx.run<FactRow>({
    cypher: `
      MATCH (e:Entity {tenantId: $tenantId, id: $entityId})<-[:SUBJECT|OBJECT]-(f:Fact)
      USING INDEX SEEK e:Entity(id)
      WHERE ${condition}
      WITH DISTINCT f ORDER BY f.recordedAt DESC, f.id LIMIT $limit
      RETURN ${FACT_ROW}`,
    params: {
      tenantId,
      entityId,
      asOf: when.asOf,
      limit: neo4j.int(limit),
      ...viewParams(view),
    },
  });
  return rows.map(toFact);
}

export interface FactFilter {
  subjectId?: string;
  entityId?: string;
  predicate?: string;
  text?: string;
  /** Facts valid and known then; without it, the current facts. */
  asOf?: string | null;
  /** Every fact, current and ended (asOf is then ignored). */
  includeEnded?: boolean;
}

/** The tenant's facts that `view` may see, as a page (readPage binds each as `n`). */
export async function listFacts(
  tx: Tx,
  tenantId: string,
  filter: FactFilter,
  sort: Sort,
  page: PageRequest,
  view?: MemoryView,
): Promise<Page<Fact>> {
  const conditions: string[] = [];
  const seen = viewCondition(view, 'Fact', 'n');
  if (seen) conditions.push(seen);
  if (!filter.includeEnded) conditions.push(factTimeCondition(filter.asOf ?? null, 'n'));
  const bySubject = {
    from: { label: 'Entity', id: 'subjectId' },
    edges: ['<-[:SUBJECT]-'],
    test: 'EXISTS { (n)-[:SUBJECT]->(e) WHERE e.id = $subjectId }',
  };
  const byEntity = {
    from: { label: 'Entity', id: 'entityId' },
    edges: ['<-[:SUBJECT|OBJECT]-'],
    test: 'EXISTS { (n)-[:SUBJECT|OBJECT]->(e) WHERE e.id = $entityId }',
  };
  if (filter.predicate) conditions.push('n.predicate = $predicate');
  if (filter.text) conditions.push('toLower(n.text) CONTAINS toLower($text)');
  const ids = await readPage(
    tx,
    {
      label: 'Fact',
      // An entity's facts from the entity when it has few (page-direct.ts: Linked).
      linked: [filter.subjectId && bySubject, filter.entityId && byEntity].filter((l) => !!l),
      // One predicate from its (tenantId, predicate) index when few (page-direct.ts: OneOf).
      oneOf: filter.predicate ? { property: 'predicate', param: 'predicates' } : undefined,
      conditions,
      params: {
        tenantId,
        ...filter,
        asOf: filter.asOf ?? null,
        predicates: [filter.predicate],
        ...viewParams(view),
      },
      sort,
      page,
    },
    (node) => String(node.properties.id),
  );
  const facts = new Map(
    (
      await factsByIds(
        tx,
        tenantId,
        ids.items.map((i) => i.node),
      )
    ).map((f) => [f.id, f]),
  );
  return {
    ...ids,
    items: ids.items.flatMap((i) => {
      const fact = facts.get(i.node);
      return fact ? [{ node: fact, cursor: i.cursor }] : [];
    }),
  };
}
