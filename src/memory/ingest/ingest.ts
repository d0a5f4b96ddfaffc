/**
 * One episode's ingestion (issue 11): read the neighbourhood, extract (one model call, none for
 * structured-only episodes), embed, resolve entities, decide contradictions (a judge call only
 * for a candidate), then commit everything with INGESTED in ONE transaction fenced by the lease.
 * Ids derive from the episode, so a retried transaction MERGEs onto itself.
 */
import { stableId } from '../../../graph/agent-work.repository.js';
import * as entities from '../../../graph/memory/entity.repository.js';
import * as factsRepo from '../../../graph/memory/fact.repository.js';
import * as ingestRepo from '../../../graph/memory/ingest.repository.js';
import { documentProgress } from '../../../graph/memory/document.repository.js';
import { lockEntities, mergeEntity } from '../../../graph/memory/merge.repository.js';
import { setVectors, vectorSearch } from '../../../graph/memory/vector.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { MemoryScope, normalisePredicate } from '../../domain/memory.js';
import type { Emit } from '../../services/unit-of-work.js';
import type { Tx } from '../../../graph/cypher.js';
import type { Embedder } from '../embeddings/embedder.js';
import { normaliseName } from '../normalise.js';
import { byTime, decide, ending, firstEndings, redecide, type Ending } from './contradict.js';
import { extract, judge, type Extraction } from './extract.js';
import { ingestionModel, type IngestionModelDeps } from './model.js';
import { mentionsOf, neighbourhood } from './mentions.js';
import { resolveMentions, type Similar } from './resolve.js';
import { freeText, structuredExtraction } from './structured.js';
import type { ClaimedEpisode } from '../../../graph/memory/ingest.repository.js';

export interface IngestDeps extends IngestionModelDeps {
  /** Embeds entities, facts and the episode; without it, resolution is by name only. */
  embedder?: Embedder;
  /** MEMORY_ENTITY_SIMILARITY. */
  similarity: number;
}

/** What an ingestion did; `committed` false when the lease was lost (nothing written). */
export interface IngestResult {
  committed: boolean;
  modelCalls: number;
  entitiesCreated: number;
  factsCreated: number;
  factsEnded: number;
  merges: number;
}

/** Judge calls one episode may make (each is a model call). */
const MAX_JUDGED = 10;

/**
 * Ingests a claimed episode as `workerId`. Throws on a failure (the queue retries it); the
 * model calls made before a throw are in `error.modelCalls`.
 */
export async function ingestEpisode(
  deps: IngestDeps,
  claimed: ClaimedEpisode,
  workerId: string,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const { episode } = claimed;
  const tenantId = episode.tenantId;
  const llm = ingestionModel(deps, { tenantId, episodeId: episode.id, ...claimed });
  try {
    return await run(deps, claimed, workerId, llm, signal);
  } catch (err) {
    // A call a budget refused is not counted: it was refused before it started.
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), {
      modelCalls: llm.calls(),
    });
  } finally {
    await llm.flush();
  }
}

async function run(
  deps: IngestDeps,
  claimed: ClaimedEpisode,
  workerId: string,
  llm: ReturnType<typeof ingestionModel>,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const { episode } = claimed;
  const tenantId = episode.tenantId;
  const text = freeText(episode.content);
  const embedder = deps.embedder;

  // 1. Extraction: structured facts as they are, free text through one model call.
  const given = structuredExtraction(claimed.structured);
  let extracted: Extraction = { entities: [], facts: [] };
  if (text.length > 0) {
    const known = await neighbourhood(deps, tenantId, text, signal);
    extracted = await extract(llm.model, { ...episode, content: text }, known, signal);
  }
  const all: Extraction = {
    entities: [...given.entities, ...extracted.entities],
    facts: [...given.facts, ...extracted.facts],
  };
  const mentions = mentionsOf(all);

  // 2. Embeddings: mentions (as entities embed: "name: summary"), facts, the episode.
  const factDrafts = all.facts.flatMap((f) => {
    const predicate = normalisePredicate(f.predicate);
    if (!predicate || !normaliseName(f.subject)) return [];
    const object = f.object && normaliseName(f.object) ? f.object : null;
    const text = `${f.subject} ${predicate.replace(/_/g, ' ')}: ${object ?? f.value}`;
    return [{ ...f, predicate, object, text }];
  });
  const vectors = embedder
    ? await embedder.embed(
        [
          ...mentions.map((m) => `${m.name}: ${m.summary}`),
          ...factDrafts.map((f) => f.text),
          episode.content,
        ],
        signal,
      )
    : null;
  const mentionVectors = vectors?.slice(0, mentions.length) ?? [];
  const factVectors = vectors?.slice(mentions.length, mentions.length + factDrafts.length) ?? [];
  const episodeVector = vectors?.at(-1) ?? null;

  // 3. Resolution against what the tenant knows.
  const { exact, similar, neighbours } = await deps.uow.read(async (tx) => {
    const norms = mentions.map((m) => m.normName);
    const standing = await entities.entitiesByNormNames(tx, tenantId, norms);
    // A name merged away resolves to the entity it was merged into.
    const missing = norms.filter((n) => !standing.some((e) => e.normName === n));
    const survivors = await ingestRepo.survivorsByNormNames(tx, tenantId, missing);
    const byId = new Map(
      (await entities.entitiesByIds(tx, tenantId, [...new Set(survivors.values())])).map((e) => [
        e.id,
        e,
      ]),
    );
    const exact = [
      ...standing,
      ...[...survivors].flatMap(([normName, id]) => {
        const e = byId.get(id);
        return e ? [{ ...e, normName }] : [];
      }),
    ];
    const similar: Similar[][] = [];
    if (embedder) {
      for (const v of mentionVectors) {
        const hits = await vectorSearch(tx, tenantId, 'Entity', embedder, v, 5);
        const found = await entities.entitiesByIds(
          tx,
          tenantId,
          hits.map((h) => h.id),
        );
        const byId = new Map(found.map((e) => [e.id, e]));
        similar.push(
          hits.flatMap((h) => {
            const entity = byId.get(h.id);
            // Neo4j's cosine score is (1 + cosine) / 2.
            return entity ? [{ entity, cosine: 2 * h.score - 1 }] : [];
          }),
        );
      }
    }
    const ids = [...new Set(similar.flat().map((s) => s.entity.id))];
    const neighbours = await entities.neighbourNames(tx, tenantId, ids);
    return { exact, similar, neighbours };
  });
  const { resolutions, merges } = resolveMentions({
    mentions,
    exact,
    similar,
    neighbours,
    threshold: deps.similarity,
  });
  const idOf = new Map<string, string>();
  const created: (entities.NewEntity & { vector: number[] | null })[] = [];
  const aliases: { id: string; aliases: string[]; summary: string | null }[] = [];
  // Only a shared episode's words enrich an existing entity: keys that may not read a private
  // episode still read the entity's summary and aliases.
  const enriches = episode.scope === MemoryScope.TENANT;
  mentions.forEach((m, i) => {
    const r = resolutions[i]!;
    if (r.kind === 'existing') {
      idOf.set(m.normName, r.entityId);
      if (!enriches) return;
      aliases.push({
        id: r.entityId,
        aliases: r.alias ? [r.alias] : [],
        summary: m.summary || null,
      });
    } else {
      const id = stableId(episode.id, 'entity', m.normName);
      idOf.set(m.normName, id);
      created.push({
        id,
        name: m.name,
        normName: m.normName,
        type: m.type,
        summary: m.summary,
        aliases: [],
        vector: mentionVectors[i] ?? null,
      });
    }
  });

  // 4. Contradiction: against the subjects' current facts; the judge only for a candidate.
  const current = await deps.uow.read((tx) =>
    factsRepo.currentFactsOf(tx, tenantId, [...new Set(idOf.values())]),
  );
  const newFacts: (factsRepo.NewFact & { vector: number[] | null })[] = [];
  const confirms: { factId: string; episodeId: string }[] = [];
  const ends: Ending[] = [];
  let judged = 0;
  for (const [i, f] of factDrafts.entries()) {
    const subjectId = idOf.get(normaliseName(f.subject))!;
    const objectId = f.object ? (idOf.get(normaliseName(f.object)) ?? null) : null;
    const value = f.object ?? f.value;
    // Undated, a fact holds from when its episode happened (Graphiti's reference time).
    const validFrom = isoOrNull(f.validFrom) ?? episode.occurredAt;
    const incoming = { subjectId, predicate: f.predicate, objectId, value, validFrom };
    const verdict = decide(incoming, current);
    if (verdict.kind === 'confirm') {
      confirms.push({ factId: verdict.factId, episodeId: episode.id });
      continue;
    }
    const id = stableId(episode.id, 'fact', subjectId, f.predicate, value.toLowerCase());
    if (newFacts.some((n) => n.id === id)) continue;
    const contradicted: typeof current = [];
    for (const old of verdict.ask) {
      if (judged >= MAX_JUDGED) break;
      judged++;
      const answer = await judge(llm.model, f.subject, old.text, f.text, signal);
      if (answer.contradicts) contradicted.push(old);
    }
    const judgedByTime = byTime(incoming, contradicted);
    for (const old of [...verdict.ends, ...judgedByTime.ends])
      ends.push(ending(old, { id, validFrom }));
    const endedBy = verdict.endedBy ?? judgedByTime.endedBy;
    if (endedBy) ends.push(ending({ id }, endedBy));
    newFacts.push({
      id,
      subjectId,
      predicate: f.predicate,
      objectId,
      value,
      text: f.text,
      confidence: f.confidence,
      validFrom,
      episodeIds: [episode.id],
      vector: factVectors[i] ?? null,
    });
  }
  const modelCalls = llm.calls();

  // 5. Commit, fenced by the lease: a lost lease writes nothing.
  return deps.uow.run(async (tx, emit) => {
    const none = { entitiesCreated: 0, factsCreated: 0, factsEnded: 0, merges: 0 };
    if (!(await ingestRepo.holdEpisodeLease(tx, tenantId, episode.id, workerId))) {
      return { committed: false, modelCalls, ...none };
    }
    // Another episode of the tenant may have created one of "our" new names since we read.
    const now = await entities.entitiesByNormNames(
      tx,
      tenantId,
      created.map((c) => c.normName),
    );
    const taken = new Map(now.map((e) => [e.normName, e.id]));
    const remap = new Map(
      created.filter((c) => taken.has(c.normName)).map((c) => [c.id, taken.get(c.normName)!]),
    );
    const fresh = created.filter((c) => !taken.has(c.normName));
    // A person's merge may have moved an entity read above into another since: the entities
    // are locked as mergeEntities locks them, and each merged one's survivor stands in for it.
    const read = [...idOf.values(), ...merges.flatMap((m) => [m.fromId, m.intoId])];
    const touched = [...new Set([...read, ...remap.values()])];
    await lockEntities(tx, tenantId, touched);
    const survivors = await ingestRepo.survivorsOf(tx, tenantId, touched);
    const standing = (id: string) => {
      const own = remap.get(id) ?? id;
      return survivors.get(own) ?? own;
    };
    await entities.createEntities(tx, tenantId, fresh);
    await entities.enrichEntities(
      tx,
      tenantId,
      aliases.map((a) => ({ ...a, id: standing(a.id) })),
    );
    for (const m of merges)
      await mergeEntity(tx, tenantId, m.fromId, m.intoId, m.reason, 'ingestion');
    const entityIds = [...new Set([...idOf.values()].map(standing))];
    await entities.addMentions(
      tx,
      tenantId,
      entityIds.map((entityId) => ({ episodeId: episode.id, entityId })),
    );
    // Facts this episode wrote before (it is ingested again) stand as they are: writing them
    // again would end today's facts in favour of the episode's older ones.
    const known = await factsRepo.factsByIds(
      tx,
      tenantId,
      newFacts.map((f) => f.id),
    );
    const again = new Set(known.map((f) => f.id));
    const decided = newFacts
      .filter((f) => !again.has(f.id))
      .map((f) => ({
        ...f,
        subjectId: standing(f.subjectId),
        objectId: f.objectId ? standing(f.objectId) : null,
      }));
    // Episodes about the same subjects are ingested at once: one may have committed since
    // step 4 read their facts. Decided again here, under the subjects' locks taken above.
    const readBefore = new Set(current.map((f) => f.id));
    const subjects = [...new Set(decided.map((f) => f.subjectId))];
    const since = (await factsRepo.currentFactsOf(tx, tenantId, subjects)).filter(
      (f) => !readBefore.has(f.id),
    );
    const { kept: facts, confirmed, ends: replaced } = redecide(decided, since);
    await factsRepo.createFacts(tx, tenantId, facts);
    await factsRepo.confirmFacts(tx, tenantId, [
      ...confirms,
      ...confirmed.map((factId) => ({ factId, episodeId: episode.id })),
    ]);
    const written = new Set(facts.map((f) => f.id));
    const ended = firstEndings([
      ...ends.filter((e) => written.has(e.replacedById) || written.has(e.id)),
      ...replaced,
    ]);
    const factsEnded = ended.length > 0 ? await factsRepo.endFacts(tx, tenantId, ended) : 0;
    if (embedder) {
      const rows = <T extends { id: string; vector: number[] | null }>(xs: T[]) =>
        xs.flatMap((x) => (x.vector ? [{ id: x.id, vector: x.vector }] : []));
      await setVectors(tx, tenantId, 'Entity', rows(fresh), embedder);
      await setVectors(tx, tenantId, 'Fact', rows(facts), embedder);
      if (episodeVector) {
        await setVectors(
          tx,
          tenantId,
          'Episode',
          [{ id: episode.id, vector: episodeVector }],
          embedder,
        );
      }
    }
    const named = await entities.entitiesByIds(tx, tenantId, entityIds);
    await ingestRepo.linkKnowledge(
      tx,
      tenantId,
      claimed.runId,
      named.map((e) => ({ id: e.id, name: e.name })),
    );
    await ingestRepo.markIngested(tx, tenantId, episode.id, modelCalls);
    if (claimed.documentId) await publishProgress(tx, emit, tenantId, claimed.documentId);
    return {
      committed: true,
      modelCalls,
      entitiesCreated: fresh.length,
      factsCreated: facts.length,
      factsEnded,
      merges: merges.length,
    };
  });
}

function isoOrNull(value: string | null): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/**
 * Settles a document whose chunk just ended (INGESTED or FAILED once none is left) and emits
 * its progress, published after the transaction commits.
 */
export async function publishProgress(
  tx: Tx,
  emit: Emit,
  tenantId: string,
  documentId: string,
): Promise<void> {
  const status = await ingestRepo.settleDocument(tx, tenantId, documentId);
  const counts = await documentProgress(tx, tenantId, documentId);
  if (!counts || !status) return;
  emit({
    topic: TOPICS.documentProgress,
    payload: {
      tenantId,
      documentId,
      chunks: Number(counts.chunks),
      ingested: Number(counts.ingested),
      failed: Number(counts.failed),
      status: status as 'INGESTING' | 'INGESTED' | 'FAILED',
    },
  });
}
