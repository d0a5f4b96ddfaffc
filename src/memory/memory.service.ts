import type { Tx } from '../../graph/cypher.js';
import * as documents from '../../graph/memory/document.repository.js';
import * as episodes from '../../graph/memory/episode.repository.js';
import * as entities from '../../graph/memory/entity.repository.js';
import * as facts from '../../graph/memory/fact.repository.js';
import * as merges from '../../graph/memory/merge.repository.js';
import * as retention from '../../graph/memory/retention.repository.js';
import { countRetryableEpisodes, failedChunksOf } from '../../graph/memory/retry.repository.js';
import type { RetentionRule } from '../../graph/memory/retention.repository.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import {
  EpisodeKind,
  EpisodeStatus,
  MemoryScope,
  type Entity,
  type Episode,
  type Fact,
  type MemoryDocument,
} from '../domain/memory.js';
import type { MemoryView } from '../domain/memory-search.js';
import { pageRequest, type PageInput, type Page, type Sort } from '../domain/page.js';
import { isId, LIMITS, optionalText } from '../domain/validate.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import { takeBackFailed } from './episode-retry.js';
import { refuseOverPendingEpisodes } from '../services/backlog.js';
import type { BacklogLimits } from '../domain/backlog.js';

export interface NewDocumentData {
  title: string;
  mime: string;
  bytes: number;
  /** What makes two uploads one document (document.service.ts: contentHash). */
  contentHash: string;
  chunks: string[];
  actorAgentId?: string | null;
}

/**
 * Creates a (:Document) and one PENDING DOCUMENT_CHUNK episode per chunk, FROM_DOCUMENT it, in
 * one transaction: a document is either wholly queued for ingestion or not there at all. The
 * tenant's document of the same contentHash instead, with `uploads` raised and only its FAILED
 * chunks queued again: a uniqueness constraint makes two uploads at once wait for each other,
 * not make two. LIMIT_EXCEEDED when the chunks it queues would take the tenant past
 * TENANT_MAX_PENDING_EPISODES.
 */
export function mergeDocument(
  uow: UnitOfWork,
  tenantId: string,
  data: NewDocumentData,
  backlog?: BacklogLimits,
): Promise<MemoryDocument> {
  return uow.run(async (tx, emit) => {
    const doc = await documents.mergeDocument(tx, tenantId, {
      title: data.title,
      mime: data.mime,
      bytes: data.bytes,
      contentHash: data.contentHash,
      chunks: data.chunks.length,
    });
    // The same text again: its chunks were queued with the first upload; those that FAILED
    // (an outage spent their attempts) are taken back, as retryEpisodes would.
    if (doc.uploads > 1) {
      const failed = await failedChunksOf(tx, tenantId, doc.id);
      if (failed.length === 0) return doc;
      const ask = { operation: 'This document', ids: failed, adding: failed.length };
      await takeBackFailed(tx, emit, tenantId, backlog, { ...ask, limit: failed.length });
      return { ...doc, status: EpisodeStatus.INGESTING };
    }
    await refuseOverPendingEpisodes(tx, tenantId, backlog, 'This document', data.chunks.length);
    await episodes.mergeEpisodes(
      tx,
      tenantId,
      data.chunks.map((content, i) => ({
        kind: EpisodeKind.DOCUMENT_CHUNK,
        sourceKey: `document:${doc.id}#${i + 1}`,
        source: `document "${data.title}" part ${i + 1} of ${data.chunks.length}`,
        content,
        occurredAt: null,
        scope: MemoryScope.TENANT,
        scopeId: null,
        documentId: doc.id,
        agentId: data.actorAgentId ?? null,
      })),
    );
    return doc;
  });
}

export async function documentById(
  uow: UnitOfWork,
  tenantId: string,
  id: string,
): Promise<MemoryDocument | null> {
  if (!isId(id)) return null;
  const [doc] = await uow.read((tx) => documents.documentsByIds(tx, tenantId, [id]));
  return doc ?? null;
}

/**
 * Queues an episode in the caller's transaction (a step's writes, a message, a chat turn):
 * PENDING, ingested later in the background, so the agent that produced it never waits.
 * Idempotent per sourceKey.
 */
export async function queueEpisode(
  tx: Tx,
  tenantId: string,
  episode: episodes.NewEpisode,
): Promise<Episode> {
  const [queued] = await episodes.mergeEpisodes(tx, tenantId, [episode]);
  return queued!;
}

const MAX_REASON = 500;
const FORGET_BATCH = 500;
/** FAILED episodes one retryEpisodes without ids takes back (one transaction). */
export const RETRY_ALL_MOST = 1_000;

/** Retention periods are whole days, up to a century; `field` names the argument sent. */
function checkDays(days: number, field = 'days'): number {
  if (!Number.isInteger(days) || days < 0 || days > 36_500) {
    throw new BadInputError(`${field} must be a whole number 0 to 36500, but got ${days}`, {
      field,
    });
  }
  return days;
}

/**
 * The API's use cases over memory: reads, merges and retention. A read takes the caller's
 * view (keyView) and returns only what it may see.
 */
export class MemoryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  entities(
    tenantId: string,
    filter: entities.EntityFilter,
    sort: Sort,
    input: PageInput,
    view: MemoryView,
  ): Promise<Page<Entity>> {
    const text = optionalText('filter.text', filter.text, LIMITS.search) ?? undefined;
    const type = optionalText('filter.type', filter.type, LIMITS.name) ?? undefined;
    const page = pageRequest(input);
    return this.uow.read((tx) =>
      entities.listEntities(tx, tenantId, { ...filter, text, type }, sort, page, view),
    );
  }

  async entity(tenantId: string, id: string): Promise<Entity | null> {
    if (!isId(id)) return null;
    const [entity] = await this.uow.read((tx) => entities.entitiesByIds(tx, tenantId, [id]));
    return entity ?? null;
  }

  entitiesByIds(tenantId: string, ids: readonly string[]): Promise<Entity[]> {
    return this.uow.read((tx) => entities.entitiesByIds(tx, tenantId, ids.filter(isId)));
  }

  /** Facts about an entity: current, past (ended), or valid and known at asOf. */
  factsOfEntity(
    tenantId: string,
    entityId: string,
    when: { asOf: string | null; past: boolean },
    first: number,
    view: MemoryView,
  ): Promise<Fact[]> {
    return this.uow.read((tx) => facts.factsOfEntity(tx, tenantId, entityId, when, first, view));
  }

  neighbours(tenantId: string, entityId: string, first: number, view: MemoryView) {
    return this.uow.read((tx) => entities.entityNeighbours(tx, tenantId, entityId, first, view));
  }

  episodes(
    tenantId: string,
    filter: episodes.EpisodeFilter,
    sort: Sort,
    input: PageInput,
    view: MemoryView,
  ): Promise<Page<Episode>> {
    return this.uow.read((tx) =>
      episodes.listEpisodes(tx, tenantId, filter, sort, pageRequest(input), view),
    );
  }

  facts(
    tenantId: string,
    filter: facts.FactFilter,
    sort: Sort,
    input: PageInput,
    view: MemoryView,
  ): Promise<Page<Fact>> {
    const text = optionalText('filter.text', filter.text, LIMITS.search) ?? undefined;
    return this.uow.read((tx) =>
      facts.listFacts(tx, tenantId, { ...filter, text }, sort, pageRequest(input), view),
    );
  }

  /**
   * Merges each of `ids` into `intoId` (one transaction, all or nothing). Throws NOT_FOUND for
   * an unknown entity, or one the caller's `view` does not see, and CONFLICT for one that is
   * merged already.
   */
  async merge(
    tenantId: string,
    intoId: string,
    ids: string[],
    reason: string | null | undefined,
    by: string,
    view?: MemoryView,
  ): Promise<Entity> {
    const why = optionalText('reason', reason, MAX_REASON) ?? 'merged by hand';
    const from = [...new Set(ids)].filter((id) => id !== intoId);
    if (from.length === 0) {
      throw new BadInputError('ids must name at least one entity other than intoId', {
        field: 'ids',
      });
    }
    if (from.length > LIMITS.batch) {
      throw new BadInputError(`ids may name at most ${LIMITS.batch} entities`, { field: 'ids' });
    }
    return this.uow.run(async (tx) => {
      await merges.lockEntities(tx, tenantId, [intoId, ...from]);
      await this.standing(tx, tenantId, [intoId, ...from], view);
      for (const id of from) {
        await merges.mergeEntity(tx, tenantId, id, intoId, why, by);
      }
      const [into] = await entities.entitiesByIds(tx, tenantId, [intoId]);
      return into!;
    });
  }

  /**
   * Undoes a merge; NOT_FOUND for an unknown entity (or one the caller's `view` does not see),
   * CONFLICT for one that is not merged.
   */
  async unmerge(tenantId: string, id: string, view?: MemoryView): Promise<Entity> {
    return this.uow.run(async (tx) => {
      const [seen] = isId(id) ? await entities.entitiesByIds(tx, tenantId, [id], view) : [];
      if (!seen) throw new NotFoundError('Entity', id);
      // Both ends of the merge, as a merge locks them; then read again under the locks.
      await merges.lockEntities(tx, tenantId, [id, ...(seen.mergedInto ? [seen.mergedInto] : [])]);
      const [entity] = await entities.entitiesByIds(tx, tenantId, [id]);
      if (!entity) throw new NotFoundError('Entity', id);
      if (entity.mergedInto === null) {
        throw new ConflictError(`Entity "${entity.name}" (${id}) is not merged into another`);
      }
      await merges.unmergeEntity(tx, tenantId, id);
      const [back] = await entities.entitiesByIds(tx, tenantId, [id]);
      return back!;
    });
  }

  /**
   * Forgets (deletes) the tenant's ingested episodes of `kind` older than `days`, in batches;
   * entities and facts learned from them stay. Returns how many it deleted.
   */
  async forgetEpisodes(tenantId: string, kind: EpisodeKind, days: number): Promise<number> {
    return this.forget(tenantId, kind, checkDays(days, 'olderThanDays'), Infinity);
  }

  /**
   * Takes FAILED episodes back for the ingestion queue: PENDING, attempts from 0 (an outage of
   * the model or the embeddings endpoint spent them). `ids` (1 to LIMITS.batch) all or nothing:
   * NOT_FOUND for one unknown or not in `view`, BAD_USER_INPUT for one not FAILED. Without ids,
   * the oldest RETRY_ALL_MOST FAILED episodes `view` sees. Their documents are INGESTING again.
   * LIMIT_EXCEEDED, nothing taken back, when they would take the tenant past
   * TENANT_MAX_PENDING_EPISODES (as what people feed memory).
   */
  async retryEpisodes(
    tenantId: string,
    ids: readonly string[] | null,
    view: MemoryView,
  ): Promise<Episode[]> {
    const wanted = ids === null ? null : [...new Set(ids)];
    if (wanted && wanted.length === 0) {
      throw new BadInputError(
        'ids must name at least one episode, or be left out to retry every FAILED episode',
        { field: 'ids' },
      );
    }
    if (wanted && wanted.length > LIMITS.batch) {
      throw new BadInputError(
        `ids may name at most ${LIMITS.batch} episodes, but got ${wanted.length}`,
        { field: 'ids' },
      );
    }
    return this.uow.run(async (tx, emit) => {
      if (wanted) {
        const found = new Map(
          (await episodes.episodesByIds(tx, tenantId, wanted.filter(isId), view, true)).map((e) => [
            e.id,
            e,
          ]),
        );
        for (const id of wanted) {
          const episode = found.get(id);
          if (!episode) throw new NotFoundError('Episode', id);
          if (episode.status !== EpisodeStatus.FAILED) {
            throw new BadInputError(
              `episode ${id} is ${episode.status}: only FAILED episodes are retried`,
              { field: 'ids' },
            );
          }
        }
      }
      const limit = wanted?.length ?? RETRY_ALL_MOST;
      const adding = wanted
        ? wanted.length
        : await countRetryableEpisodes(tx, tenantId, null, limit, view);
      const ask = { operation: 'retryEpisodes', ids: wanted, adding, limit, view };
      return takeBackFailed(tx, emit, tenantId, this.backlog, ask);
    });
  }

  /** Sets (or, with null days, removes) the tenant's retention rule for episodes of `kind`. */
  async setRetention(
    tenantId: string,
    kind: EpisodeKind,
    days: number | null,
  ): Promise<RetentionRule[]> {
    const checked = days === null ? null : checkDays(days);
    return this.uow.run(async (tx) => {
      await retention.setRetentionRule(tx, tenantId, kind, checked);
      return retention.retentionRules(tx, tenantId);
    });
  }

  retention(tenantId: string): Promise<RetentionRule[]> {
    return this.uow.read((tx) => retention.retentionRules(tx, tenantId));
  }

  /**
   * Applies every tenant's retention rules once (the server runs this hourly). At most
   * `perRule` episodes go per rule and sweep, so one tenant's backlog never holds up another's;
   * the rest go next time. A rule that fails is logged and skipped. Returns the count deleted.
   */
  async sweepRetention(log?: { warn(obj: object, msg: string): void }, perRule = 5_000) {
    const rules = await this.uow.read((tx) => retention.retentionRules(tx, null));
    let total = 0;
    for (const rule of rules) {
      total += await this.forget(rule.tenantId, rule.kind, rule.days, perRule).catch(
        (err: unknown) => {
          log?.warn({ err, tenantId: rule.tenantId, kind: rule.kind }, 'retention rule failed');
          return 0;
        },
      );
    }
    return total;
  }

  private async forget(tenantId: string, kind: EpisodeKind, days: number, most: number) {
    const before = new Date(Date.now() - days * 86_400_000).toISOString();
    let total = 0;
    while (total < most) {
      const batch = Math.min(FORGET_BATCH, most - total);
      const n = await this.uow.write((tx) =>
        episodes.forgetEpisodes(tx, tenantId, kind, before, batch),
      );
      total += n;
      if (n < batch) break;
    }
    return total;
  }

  /** Throws NOT_FOUND for an unknown id and CONFLICT for a merged entity. */
  private async standing(tx: Tx, tenantId: string, ids: string[], view?: MemoryView) {
    const bad = ids.filter((id) => !isId(id));
    if (bad.length > 0) throw new NotFoundError('Entity', bad[0]!);
    const seen = await entities.entitiesByIds(tx, tenantId, ids, view);
    const found = new Map(seen.map((e) => [e.id, e]));
    for (const id of ids) {
      const entity = found.get(id);
      if (!entity) throw new NotFoundError('Entity', id);
      if (entity.mergedInto !== null) {
        throw new ConflictError(
          `Entity "${entity.name}" (${id}) is merged into ${entity.mergedInto} already: unmerge it first or use that one`,
        );
      }
    }
  }
}
