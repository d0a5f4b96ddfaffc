import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import type { Episode, EpisodeKind, EpisodeStatus, MemoryScope } from '../../src/domain/memory.js';
import type { MemoryView } from '../../src/domain/memory-search.js';
import type { Page, PageRequest } from '../../src/domain/page.js';
import { batched } from '../batch.js';
import { lockAndBump } from '../locks.js';
import type { Tx } from '../cypher.js';
import { readPage, type NodeLike, type Sort } from '../page.js';
import { walkFrom } from '../page-direct.js';
import { toEpisode } from './mappers.js';
import { markForgottenSource, viewCondition, viewParams } from './view.js';

export interface NewEpisode {
  kind: EpisodeKind;
  sourceKey: string;
  source: string;
  content: string;
  /** ISO time the experience happened; now when null. */
  occurredAt: string | null;
  scope: MemoryScope;
  scopeId: string | null;
  /** Provenance: the ends of FROM_RUN, FROM_MESSAGE, FROM_DOCUMENT and BY, when known. */
  runId?: string | null;
  messageId?: string | null;
  documentId?: string | null;
  agentId?: string | null;
  /**
   * Facts that arrive already structured, written without a model call (ingestion's
   * StructuredMemory: `{ entities, facts }`); stored as JSON.
   */
  structured?: unknown;
}

/**
 * Creates the episodes that do not exist yet (by tenant and sourceKey) as PENDING, with their
 * provenance edges; an episode that exists is returned as it is. Returns them in input order.
 * Calls made at once on one transaction (a group commit's ends) share a statement.
 */
export function mergeEpisodes(
  tx: Tx,
  tenantId: string,
  episodes: NewEpisode[],
): Promise<Episode[]> {
  const keys = episodes.map((e) => `${tenantId}\u0000${e.sourceKey}`);
  return batched(tx, mergeEpisodeBatch, { tenantId, episodes }, keys);
}

async function mergeEpisodeBatch(
  tx: Tx,
  calls: { tenantId: string; episodes: NewEpisode[] }[],
): Promise<Episode[][]> {
  const rows = await tx.run<{ e: NodeLike; call: number }>({
    cypher: `
      UNWIND $episodes AS x
      ${MERGE_EPISODE('x')}
      RETURN e, x.call AS call`,
    params: {
      episodes: calls.flatMap(({ tenantId, episodes }, call) =>
        episodes.map((e) => ({ ...episodeRow(tenantId, e), call })),
      ),
    },
  });
  const out = calls.map((): Episode[] => []);
  for (const r of rows) out[Number(r.call)]!.push(toEpisode(r.e));
  return out;
}

/** An episode as the parameter row MERGE_EPISODE reads. */
export type EpisodeRow = ReturnType<typeof episodeRow>;

export function episodeRow(tenantId: string, e: NewEpisode) {
  return {
    runId: null,
    messageId: null,
    documentId: null,
    agentId: null,
    ...e,
    structured: e.structured == null ? null : JSON.stringify(e.structured),
    id: randomUUID(),
    tenantId,
  };
}

/** An episode's provenance: the row's key, the label of what it names, the edge to it. */
const PROVENANCE = [
  ['runId', 'Run', 'FROM_RUN'],
  ['messageId', 'Message', 'FROM_MESSAGE'],
  ['documentId', 'Document', 'FROM_DOCUMENT'],
  ['agentId', 'Agent', 'BY'],
] as const;

/**
 * Cypher that binds `e` to the episode of the row `x` (an EpisodeRow): made PENDING with its
 * provenance edges if the tenant has none with its sourceKey yet, else the one it has. Also run
 * by the statement that ends a run, for the run's result (graph/run.repository.ts).
 */
export const MERGE_EPISODE = (x: string) => `
      MERGE (e:Episode {tenantId: ${x}.tenantId, sourceKey: ${x}.sourceKey})
      ON CREATE SET e.id = ${x}.id, e.kind = ${x}.kind, e.source = ${x}.source,
        e.content = ${x}.content, e.occurredAt = coalesce(datetime(${x}.occurredAt), datetime()),
        e.status = 'PENDING', e.attempts = 0, e.modelCalls = 0, e.scope = ${x}.scope,
        e.scopeId = ${x}.scopeId, e.structured = ${x}.structured,
        e.createdAt = datetime(), e.updatedAt = datetime(), e.fresh = true
      WITH *, e.fresh AS fresh
      REMOVE e.fresh
      WITH *
      ${PROVENANCE.map(
        ([key, label, edge]) => `
      CALL (e, ${x}, fresh) {
        WITH e, ${x} WHERE fresh AND ${x}.${key} IS NOT NULL
        MATCH (p:${label} {tenantId: ${x}.tenantId, id: ${x}.${key}}) CREATE (e)-[:${edge}]->(p)
      }`,
      ).join('')}`;

/**
 * The episodes by id that `view` may see (without one: all of them). `locked`: each read under
 * its claim lock, which a claim or a retry takes too, so neither changes it before the
 * transaction ends (retryEpisodes).
 */
export async function episodesByIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  view?: MemoryView,
  locked = false,
): Promise<Episode[]> {
  const seen = viewCondition(view, 'Episode', 'e');
  const rows = await tx.run<{ e: NodeLike }>({
    cypher: `
      UNWIND $ids AS id MATCH (e:Episode {tenantId: $tenantId, id: id})
      USING INDEX SEEK e:Episode(id)
      ${seen ? `WHERE ${seen}` : ''}
      ${locked ? lockAndBump('e', 'Episode', 'claimVersion') : ''}
      RETURN e`,
    params: { tenantId, ids, ...viewParams(view) },
  });
  return rows.map((r) => toEpisode(r.e));
}

export interface EpisodeFilter {
  status?: EpisodeStatus;
  kind?: EpisodeKind;
  documentId?: string;
  entityId?: string;
}

/** The tenant's episodes that `view` may see, as a page. */
export function listEpisodes(
  tx: Tx,
  tenantId: string,
  filter: EpisodeFilter,
  sort: Sort,
  page: PageRequest,
  view?: MemoryView,
): Promise<Page<Episode>> {
  const conditions: string[] = [];
  const seen = viewCondition(view, 'Episode', 'n');
  if (seen) conditions.push(seen);
  if (filter.status) conditions.push('n.status = $status');
  if (filter.kind) conditions.push('n.kind = $kind');
  return readPage(
    tx,
    {
      label: 'Episode',
      // A document's chunks from the document (page-direct.ts: walkFrom); an entity's from the
      // entity when it has few.
      match: filter.documentId
        ? walkFrom({ label: 'Document', id: 'documentId' }, '<-[:FROM_DOCUMENT]-', 'Episode')
        : undefined,
      linked: filter.entityId
        ? [
            {
              from: { label: 'Entity', id: 'entityId' },
              edges: ['-[:MENTIONED_IN]->'],
              test: 'EXISTS { (n)<-[:MENTIONED_IN]-(e) WHERE e.id = $entityId }',
            },
          ]
        : undefined,
      // One status's or kind's episodes from their index when few (page-direct.ts: OneOf).
      oneOf: filter.status
        ? { property: 'status', param: 'statuses', then: ['createdAt'] }
        : filter.kind
          ? { property: 'kind', param: 'kinds' }
          : undefined,
      conditions,
      params: {
        tenantId,
        ...filter,
        statuses: [filter.status],
        kinds: [filter.kind],
        ...viewParams(view),
      },
      sort,
      page,
    },
    toEpisode,
  );
}

/**
 * Retention: deletes up to `limit` of the tenant's ingested episodes of `kind` that happened
 * before `before`, with their edges; what was learned from them (entities, facts) stays, with
 * `sourcesForgotten` counting the episodes it lost and `privateOnly` keeping what only private
 * ones taught private (markForgottenSource). Returns how many it deleted. From the tenant's
 * status index by hint: planned on few episodes, each batch scanned every tenant's.
 */
export async function forgetEpisodes(
  tx: Tx,
  tenantId: string,
  kind: EpisodeKind,
  before: string,
  limit: number,
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (e:Episode) USING INDEX SEEK e:Episode(tenantId, status, createdAt)
      WHERE e.tenantId = $tenantId AND e.status = 'INGESTED' AND e.createdAt IS NOT NULL
        AND e.kind = $kind AND e.occurredAt < datetime($before)
      WITH e LIMIT $limit
      CALL (e) {
        MATCH (f:Fact)-[:FROM_EPISODE]->(e)
        SET f.sourcesForgotten = coalesce(f.sourcesForgotten, 0) + 1,
          ${markForgottenSource('f', 'e')}
      }
      CALL (e) {
        MATCH (n:Entity)-[:MENTIONED_IN]->(e)
        SET ${markForgottenSource('n', 'e')}
      }
      DETACH DELETE e
      RETURN count(*) AS n`,
    params: { tenantId, kind, before, limit: neo4j.int(limit) },
  });
  return Number(row?.n ?? 0);
}

/**
 * For a DataLoader: the episodes each fact came from (FROM_EPISODE) that `view` may see,
 * oldest first.
 */
export async function episodesOfFacts(
  tx: Tx,
  tenantId: string,
  factIds: readonly string[],
  view?: MemoryView,
): Promise<{ factId: string; episode: Episode }[]> {
  const seen = viewCondition(view, 'Episode', 'e');
  const rows = await tx.run<{ factId: string; e: NodeLike }>({
    cypher: `
      UNWIND $factIds AS factId
      MATCH (owner:Fact {tenantId: $tenantId, id: factId})-[:FROM_EPISODE]->(e:Episode) USING INDEX SEEK owner:Fact(id)
      ${seen ? `WHERE ${seen}` : ''}
      RETURN factId, e ORDER BY e.occurredAt, e.id`,
    params: { tenantId, factIds, ...viewParams(view) },
  });
  return rows.map((r) => ({ factId: r.factId, episode: toEpisode(r.e) }));
}
