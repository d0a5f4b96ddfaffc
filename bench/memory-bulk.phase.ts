/**
 * Phase 2 of `npm run bench:memory`: retrieval latency at growing fact-store sizes. Synthetic
 * entities, facts and episodes are written fast with the memory repositories in big UNWIND
 * batches (vectors too, so the vector retriever works), then ~100 questions are timed through
 * MemorySearch.search (BM25 + vectors, RRF) and through BM25 alone (the memory_text full-text
 * query searchMemory itself starts from), on the same data, alternating which goes first.
 */
import { createEntities, addMentions } from '../graph/memory/entity.repository.js';
import { mergeEpisodes } from '../graph/memory/episode.repository.js';
import { createFacts } from '../graph/memory/fact.repository.js';
import { bm25Memory, visibleItems } from '../graph/memory/search.repository.js';
import { setVectors, vectorSearch } from '../graph/memory/vector.repository.js';
import { stableId } from '../graph/agent-work.repository.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import type { Embedder } from '../src/memory/embeddings/embedder.js';
import { normaliseName } from '../src/memory/normalise.js';
import { MemorySearch } from '../src/memory/retrieval/search.js';
import { adminView } from '../src/memory/view.js';
import { progressBar, type MemoryBench } from './memory-context.js';
import { markBulkIngested, textsOf } from './memory-queries.js';
import { now } from './probe.js';

const FACTS_PER_ENTITY = 10;
const BATCH_FACTS = 2_000;
const WARM_UP = 10;
/** The candidate pool searchMemory asks BM25 for with first = 10 (2 x 30). */
const BM25_LIMIT = 60;

const ADJECTIVES =
  'amber blue cinder delta ember frost granite hollow iris juniper kite lumen maple north opal pine quartz river silver tidal umber velvet willow xenon yellow zephyr'.split(
    ' ',
  );
const NOUNS =
  'falcon harbor peak fern vale lantern owl quarry bay meadow ridge stone brook cedar dune field grove heath isle knoll lake marsh orchard prairie'.split(
    ' ',
  );
const KINDS =
  'Logistics Foods Mining Robotics Energy Media Software Textiles Pharma Shipping'.split(' ');
const FIRST = 'Ana Bo Carla Dev Eva Femi Greta Hugo Isla Jae Kofi Lena Milo Nia Omar Pia'.split(
  ' ',
);
const LAST = 'Ruiz Chen Diaz Patel Novak Adeyemi Lind Brandt Moore Park Okafor Berg Rossi'.split(
  ' ',
);
const CITIES = 'Oslo Porto Leeds Graz Turin Ghent Malmo Cork Lyon Basel Brno Bergen'.split(' ');
const PREDICATES = [
  'revenue',
  'ceo',
  'headquarters',
  'headcount',
  'product',
  'founded',
  'main_supplier',
  'rating',
  'budget',
  'chief_scientist',
] as const;

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function entityName(j: number): string {
  const a = ADJECTIVES[j % ADJECTIVES.length]!;
  const n = NOUNS[Math.floor(j / ADJECTIVES.length) % NOUNS.length]!;
  const k = KINDS[j % KINDS.length]!;
  return `${cap(a)} ${cap(n)} ${k} ${j}`;
}

function factOf(i: number): { entity: number; predicate: string; value: string; text: string } {
  const entity = Math.floor(i / FACTS_PER_ENTITY);
  const predicate = PREDICATES[i % PREDICATES.length]!;
  const person = `${FIRST[(i * 7) % FIRST.length]} ${LAST[(i * 11) % LAST.length]}`;
  const values: Record<(typeof PREDICATES)[number], string> = {
    revenue: `${((i * 37) % 900) / 10 + 1} million`,
    ceo: person,
    headquarters: CITIES[(i * 5) % CITIES.length]!,
    headcount: String(50 + ((i * 53) % 5000)),
    product: `${cap(NOUNS[(i * 3) % NOUNS.length]!)} ${1 + (i % 9)}`,
    founded: String(1950 + (i % 70)),
    main_supplier: entityName((entity * 31 + 7) % 100_000),
    rating: `${1 + (i % 5)} stars`,
    budget: `${(i * 17) % 500} thousand`,
    chief_scientist: person,
  };
  const value = values[predicate];
  return {
    entity,
    predicate,
    value,
    text: `${entityName(entity)} ${predicate.replace(/_/g, ' ')}: ${value}`,
  };
}

/** Writes facts [from, to) with their entities and episodes, vectors included. */
async function writeFacts(
  b: MemoryBench,
  tenantId: string,
  embedder: Embedder,
  from: number,
  to: number,
  bar: ReturnType<typeof progressBar>,
): Promise<{ embedSeconds: number; statementSeconds: Map<string, number> }> {
  let embedSeconds = 0;
  let commitSeconds = 0;
  let statementsBefore = 0;
  const statementSeconds = new Map<string, number>();
  const timed = async <T>(what: string, work: Promise<T>): Promise<T> => {
    const t = now();
    const out = await work;
    statementSeconds.set(what, (statementSeconds.get(what) ?? 0) + (now() - t) / 1000);
    return out;
  };
  for (let start = from; start < to; start += BATCH_FACTS) {
    const end = Math.min(to, start + BATCH_FACTS);
    const facts = Array.from({ length: end - start }, (_, k) => ({
      i: start + k,
      ...factOf(start + k),
    }));
    const groups = [...new Set(facts.map((f) => f.entity))];
    const entities = groups.map((j) => {
      const name = entityName(j);
      return {
        id: stableId(tenantId, 'bench-entity', String(j)),
        name,
        normName: normaliseName(name),
        type: 'Organisation',
        summary: `${name}, a synthetic company of the memory benchmark`,
        aliases: [],
      };
    });
    const episodeTexts = groups.map((j) =>
      facts
        .filter((f) => f.entity === j)
        .map((f) => `${f.text}.`)
        .join(' '),
    );
    const texts = [
      ...entities.map((e) => `${e.name}: ${e.summary}`),
      ...facts.map((f) => f.text),
      ...episodeTexts,
    ];
    const embedStarted = now();
    const vectors = await embedder.embed(texts);
    embedSeconds += (now() - embedStarted) / 1000;
    const entityVectors = vectors.slice(0, entities.length);
    const factVectors = vectors.slice(entities.length, entities.length + facts.length);
    const episodeVectors = vectors.slice(entities.length + facts.length);
    const factIds = facts.map((f) => stableId(tenantId, 'bench-fact', String(f.i)));
    const rows = (ids: string[], vs: number[][]) => ids.map((id, k) => ({ id, vector: vs[k]! }));
    const commitStarted = now();
    await b.uow.run(async (tx) => {
      await timed('createEntities', createEntities(tx, tenantId, entities));
      const episodes = await timed(
        'mergeEpisodes',
        mergeEpisodes(
          tx,
          tenantId,
          groups.map((j, k) => ({
            kind: EpisodeKind.NOTE,
            sourceKey: `bench-bulk:${j}:${start}`,
            source: `bench: synthetic note ${j}`,
            content: episodeTexts[k]!,
            occurredAt: null,
            scope: MemoryScope.TENANT,
            scopeId: null,
          })),
        ),
      );
      const episodeIds = episodes.map((e) => e.id);
      await timed('markBulkIngested', markBulkIngested(tx, tenantId, episodeIds));
      const episodeOf = new Map(groups.map((j, k) => [j, episodeIds[k]!]));
      const entityOf = new Map(groups.map((j, k) => [j, entities[k]!.id]));
      const mentions = groups.map((j) => ({
        episodeId: episodeOf.get(j)!,
        entityId: entityOf.get(j)!,
      }));
      await timed('addMentions', addMentions(tx, tenantId, mentions));
      const newFacts = facts.map((f, k) => ({
        id: factIds[k]!,
        subjectId: entityOf.get(f.entity)!,
        predicate: f.predicate,
        objectId: null,
        value: f.value,
        text: f.text,
        confidence: 0.9,
        validFrom: null,
        episodeIds: [episodeOf.get(f.entity)!],
      }));
      await timed('createFacts', createFacts(tx, tenantId, newFacts));
      const entityRows = rows(
        entities.map((e) => e.id),
        entityVectors,
      );
      await timed('setVectors', setVectors(tx, tenantId, 'Entity', entityRows, embedder));
      await timed(
        'setVectors',
        setVectors(tx, tenantId, 'Fact', rows(factIds, factVectors), embedder),
      );
      const episodeRows = rows(episodeIds, episodeVectors);
      await timed('setVectors', setVectors(tx, tenantId, 'Episode', episodeRows, embedder));
    });
    const total = (now() - commitStarted) / 1000;
    // 'commit' = the whole transaction minus its statements.
    const inStatements = [...statementSeconds.entries()]
      .filter(([k]) => k !== 'commit')
      .reduce((sum, [, v]) => sum + v, 0);
    commitSeconds += total - (inStatements - statementsBefore);
    statementsBefore = inStatements;
    bar.tick(end - from);
  }
  statementSeconds.set('commit', commitSeconds);
  return { embedSeconds, statementSeconds };
}

/** Question q of a store of `facts` facts, and the fact text that answers it. */
function question(q: number, facts: number): { query: string; expected: string } {
  // A fixed stride over the store: every size asks about old and new facts alike.
  const i = Math.floor((((q * 7919) % 10_007) / 10_007) * facts);
  const f = factOf(i);
  return {
    query: `What is the ${f.predicate.replace(/_/g, ' ')} of ${entityName(f.entity)}?`,
    expected: f.text,
  };
}

export interface LatencyResult {
  facts: number;
  entities: number;
  episodes: number;
  writeSeconds: number;
  /** Where the write time went: embedding, each repository call, the commit. */
  writeSplit: string;
  queries: number;
  hybridMs: number[];
  bm25Ms: number[];
  /** The vector retriever alone: embedding the query and 3 vectorSearch calls. */
  vectorMs: number[];
  /** searchMemory's visibility query over the BM25 and vector candidates. */
  visibleMs: number[];
  /** Questions whose answering fact was among the first 10 hits. */
  hybridFound: number;
  bm25Found: number;
  /** The local model's time to embed one query, when phase 2's vectors are not its own. */
  queryEmbedMs: number[];
}

export async function runLatencyPhase(
  b: MemoryBench,
  tenantId: string,
  bulkEmbedder: Embedder,
): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  const search = new MemorySearch({ uow: b.uow, embedder: bulkEmbedder });
  let written = 0;
  for (const size of b.options.sizes) {
    console.log(`\n-- ${size.toLocaleString('en-US')} facts --`);
    const bar = progressBar('writing facts', size - written, 'facts');
    const started = now();
    const split = await writeFacts(b, tenantId, bulkEmbedder, written, size, bar);
    bar.done(size - written);
    const writeSeconds = (now() - started) / 1000;
    written = size;

    const n = b.options.queries;
    const hybridMs: number[] = [];
    const bm25Ms: number[] = [];
    const queryEmbedMs: number[] = [];
    const vectorMs: number[] = [];
    const visibleMs: number[] = [];
    let hybridFound = 0;
    let bm25Found = 0;
    const timedBar = progressBar('timing searches', n, 'questions');
    for (let q = -WARM_UP; q < n; q++) {
      const { query, expected } = question(q + WARM_UP, size);
      const hybrid = async () => {
        const t = now();
        const hits = await search.search(tenantId, { query, view: adminView(), first: 10 });
        return { ms: now() - t, texts: hits.map((h) => h.text) };
      };
      const bm25 = async () => {
        const t = now();
        const hits = await b.graph.read((tx) => bm25Memory(tx, tenantId, query, BM25_LIMIT, false));
        return { ms: now() - t, hits };
      };
      // Alternate who goes first, so neither always finds the other's warm cache.
      let h: Awaited<ReturnType<typeof hybrid>>;
      let f: Awaited<ReturnType<typeof bm25>>;
      if (q % 2 === 0) {
        h = await hybrid();
        f = await bm25();
      } else {
        f = await bm25();
        h = await hybrid();
      }
      // The vector retriever alone, as searchMemory runs it (3 labels, a pool of 30 each).
      const vt = now();
      const [vector] = await bulkEmbedder.embed([query]);
      const near = await b.graph.read(async (tx) => {
        const out: { label: 'Entity' | 'Fact' | 'Episode'; id: string }[] = [];
        for (const label of ['Entity', 'Fact', 'Episode'] as const) {
          const hits = await vectorSearch(tx, tenantId, label, bulkEmbedder, vector!, 30);
          out.push(...hits.map((x) => ({ label, id: x.id })));
        }
        return out;
      });
      const vectorTook = now() - vt;
      // The visibility query over both retrievers' candidates, as searchMemory asks it.
      const refs = new Map([...f.hits, ...near].map((r) => [r.id, { label: r.label, id: r.id }]));
      const it = now();
      await b.graph.read((tx) =>
        visibleItems(tx, tenantId, [...refs.values()], adminView(), null, null),
      );
      if (q < 0) continue;
      visibleMs.push(now() - it);
      vectorMs.push(vectorTook);
      hybridMs.push(h.ms);
      bm25Ms.push(f.ms);
      if (h.texts.includes(expected)) hybridFound++;
      const top = f.hits.slice(0, 10);
      const texts = await textsOf(b.graph, tenantId, top);
      if (top.some((r) => texts.get(r.id) === expected)) bm25Found++;
      if (bulkEmbedder.id !== b.embedder.id) {
        const t = now();
        await b.embedder.embed([query]);
        queryEmbedMs.push(now() - t);
      }
      timedBar.tick(q + 1);
    }
    timedBar.done(n);
    results.push({
      facts: size,
      entities: Math.ceil(size / FACTS_PER_ENTITY),
      episodes: Math.ceil(size / FACTS_PER_ENTITY),
      writeSeconds,
      writeSplit: [
        `embedding ${split.embedSeconds.toFixed(1)} s`,
        ...[...split.statementSeconds].map(([k, v]) => `${k} ${v.toFixed(1)} s`),
      ].join(', '),
      queries: n,
      hybridMs,
      bm25Ms,
      vectorMs,
      visibleMs,
      hybridFound,
      bm25Found,
      queryEmbedMs,
    });
  }
  return results;
}
