/**
 * Phase 3 of `npm run bench:memory`: retrieval quality on the labelled corpus in
 * bench/memory-corpus.json. Its episodes go through the real ingestion one by one, in the order
 * they happened (so later facts end earlier ones); then every question is asked of
 * searchMemory (hybrid), of searchMemory without vectors, and of full-text search alone, and
 * scored by content: a hit answers when its text holds both the expected value and the
 * subject's name. recall@5 = share of questions answered in the first 5 hits; MRR over the
 * first 10; stale@1 = share whose first hit holds a superseded value and not the answer.
 *
 * asOf questions name a world date. searchMemory's asOf means "valid AND known then", and the
 * bench's facts were all recorded today, so they are also asked at the system moment when the
 * ingestion had read the episodes up to that date ("as the memory stood then").
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { bm25Memory } from '../graph/memory/search.repository.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { MemorySearch } from '../src/memory/retrieval/search.js';
import { adminView } from '../src/memory/view.js';
import {
  ingestOne,
  progressBar,
  type IngestedEpisode,
  type MemoryBench,
} from './memory-context.js';
import {
  allFactTexts,
  mergesOf,
  memoryCounts,
  recordedModelCalls,
  textsOf,
  type MemoryCounts,
} from './memory-queries.js';
import { sleep } from './context.js';

interface Corpus {
  episodes: { at: string; text: string }[];
  questions: { q: string; about: string; answer: string; asOf?: string; stale?: string[] }[];
}
type Question = Corpus['questions'][number];

export const CORPUS_PATH = new URL('./memory-corpus.json', import.meta.url);

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');
const has = (text: string, part: string) => norm(text).includes(norm(part));
const answers = (q: Question, text: string) => has(text, q.answer) && has(text, q.about);
const isStale = (q: Question, text: string) =>
  !has(text, q.answer) && (q.stale ?? []).some((s) => has(text, s));

/** How one method did on a group of questions. */
export interface Score {
  method: string;
  group: string;
  questions: number;
  recallAt5: number;
  mrr: number;
  staleAt1: number;
}

function score(method: string, group: string, qs: Question[], hits: string[][]): Score {
  let found = 0;
  let rr = 0;
  let stale = 0;
  qs.forEach((q, k) => {
    const texts = hits[k]!;
    const rank = texts.slice(0, 10).findIndex((t) => answers(q, t)) + 1;
    if (rank > 0 && rank <= 5) found++;
    if (rank > 0) rr += 1 / rank;
    if (texts[0] !== undefined && isStale(q, texts[0])) stale++;
  });
  const n = Math.max(1, qs.length);
  return {
    method,
    group,
    questions: qs.length,
    recallAt5: found / n,
    mrr: rr / n,
    staleAt1: stale / n,
  };
}

export interface QualityResult {
  episodes: IngestedEpisode[];
  counts: MemoryCounts;
  merges: { from: string; into: string; reason: string }[];
  recorded: { episodeModelCalls: number; llmCalls: number; ingested: number };
  /** Questions whose answer is in some extracted fact's text (what retrieval can find at best). */
  answerable: number;
  questions: number;
  scores: Score[];
  /** First hits of the hybrid search for the questions it did not answer in the first 5. */
  misses: { q: string; asOf: string | null; answer: string; top: string | null }[];
  /** Current questions whose first hybrid hit holds a superseded value. */
  staleFirst: { q: string; answer: string; top: string }[];
}

export async function runQualityPhase(b: MemoryBench, tenantId: string): Promise<QualityResult> {
  const corpus = JSON.parse(readFileSync(CORPUS_PATH, 'utf8')) as Corpus;
  const ordered = [...corpus.episodes].sort((x, y) => x.at.localeCompare(y.at));
  const workerId = `bench-corpus-${randomUUID().slice(0, 8)}`;
  const bar = progressBar('ingesting the corpus', ordered.length, 'episodes');
  const episodes: IngestedEpisode[] = [];
  // The system moment after each episode's ingestion committed (its world date alongside).
  const moments: { at: string; system: string }[] = [];
  for (const [k, e] of ordered.entries()) {
    episodes.push(
      await ingestOne(
        b,
        tenantId,
        {
          kind: EpisodeKind.NOTE,
          sourceKey: `bench-corpus:${k}`,
          source: `memory corpus #${k + 1} (${e.at})`,
          content: e.text,
          occurredAt: `${e.at}T12:00:00.000Z`,
          scope: MemoryScope.TENANT,
          scopeId: null,
        },
        workerId,
      ),
    );
    await sleep(15); // keeps the recorded times of two episodes apart
    moments.push({ at: e.at, system: new Date().toISOString() });
    await sleep(15);
    bar.tick(k + 1);
  }
  bar.done(ordered.length);

  const systemAsOf = (date: string) => {
    const before = moments.filter((m) => m.at <= date);
    return before.at(-1)?.system ?? new Date(0).toISOString();
  };
  const hybrid = new MemorySearch({ uow: b.uow, embedder: b.embedder });
  const noVectors = new MemorySearch({ uow: b.uow, embedder: null });
  const ask = async (s: MemorySearch, q: Question, asOf: string | null) =>
    (await s.search(tenantId, { query: q.q, view: adminView(), first: 10, asOf })).map(
      (h) => h.text,
    );
  const fullText = async (q: Question) => {
    const rows = await b.graph.read((tx) => bm25Memory(tx, tenantId, q.q, 10, false));
    const texts = await textsOf(b.graph, tenantId, rows);
    return rows.map((r) => texts.get(r.id) ?? '');
  };

  const current = corpus.questions.filter((q) => !q.asOf);
  const past = corpus.questions.filter((q) => q.asOf);
  const all = async (qs: Question[], f: (q: Question) => Promise<string[]>) => {
    const out: string[][] = [];
    for (const q of qs) out.push(await f(q));
    return out;
  };
  const hybridCurrent = await all(current, (q) => ask(hybrid, q, null));
  const hybridSystem = await all(past, (q) => ask(hybrid, q, systemAsOf(q.asOf!)));
  const scores = [
    score('searchMemory (hybrid)', 'current', current, hybridCurrent),
    score(
      'searchMemory, no vectors',
      'current',
      current,
      await all(current, (q) => ask(noVectors, q, null)),
    ),
    score('full-text only (BM25)', 'current', current, await all(current, fullText)),
    score('searchMemory (hybrid)', 'asOf: system time', past, hybridSystem),
    score(
      'searchMemory (hybrid)',
      'asOf: world date',
      past,
      await all(past, (q) => ask(hybrid, q, `${q.asOf}T23:59:59.000Z`)),
    ),
    score(
      'searchMemory, no vectors',
      'asOf: system time',
      past,
      await all(past, (q) => ask(noVectors, q, systemAsOf(q.asOf!))),
    ),
    score('full-text only (BM25)', 'asOf (no time filter)', past, await all(past, fullText)),
  ];
  const misses = [
    ...current.map((q, k) => ({ q, asOf: null, texts: hybridCurrent[k]! })),
    ...past.map((q, k) => ({ q, asOf: q.asOf!, texts: hybridSystem[k]! })),
  ]
    .filter(({ q, texts }) => !texts.slice(0, 5).some((t) => answers(q, t)))
    .map(({ q, asOf, texts }) => ({ q: q.q, asOf, answer: q.answer, top: texts[0] ?? null }));

  const factTexts = await allFactTexts(b.graph, tenantId);
  return {
    episodes,
    counts: await memoryCounts(b.graph, tenantId),
    merges: await mergesOf(b.graph, tenantId),
    recorded: await recordedModelCalls(b.graph, tenantId),
    answerable: corpus.questions.filter((q) => factTexts.some((t) => answers(q, t))).length,
    questions: corpus.questions.length,
    scores,
    misses,
    staleFirst: current.flatMap((q, k) => {
      const top = hybridCurrent[k]![0];
      return top !== undefined && isStale(q, top) ? [{ q: q.q, answer: q.answer, top }] : [];
    }),
  };
}
