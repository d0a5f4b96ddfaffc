import type { LatencyResult } from './memory-bulk.phase.js';
import type { IngestPhaseResult } from './memory-ingest.phase.js';
import type { QualityResult, Score } from './memory-quality.phase.js';
import { table } from './report.js';
import { int, median, ms, percentile, ratio } from './stats.js';

const spread = (values: number[]) => `p50 ${ms(median(values))}, p99 ${ms(percentile(values, 99))}`;
const perEpisode = (calls: number, n: number) => (n > 0 ? (calls / n).toFixed(2) : 'n/a');
const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

/** Resolution's merges, so a wrong one shows (a person merged into a company). */
function mergeLines(merges: { from: string; into: string; reason: string }[]): string {
  if (merges.length === 0) return '  merges: none';
  return [
    `  merges (${merges.length}):`,
    ...merges.map((m) => `    - "${m.from}" into "${m.into}": ${m.reason.slice(0, 160)}`),
  ].join('\n');
}

export function printIngest(r: IngestPhaseResult): void {
  const ok = r.episodes.filter((e) => e.result?.committed);
  const calls = (xs: typeof r.episodes) => xs.reduce((s, e) => s + (e.result?.modelCalls ?? 0), 0);
  const free = ok.filter((e) => !e.structuredOnly);
  const structured = ok.filter((e) => e.structuredOnly);
  const failed = r.episodes.filter((e) => e.error);
  const sum = (f: (x: NonNullable<(typeof ok)[number]['result']>) => number) =>
    ok.reduce((s, e) => s + f(e.result!), 0);
  console.log(
    [
      `  ${int(r.n)} episodes, ${r.concurrency} at a time, in ${r.seconds.toFixed(2)} s: ` +
        `${(r.n / r.seconds).toFixed(1)} episodes/s`,
      `  per episode (claimed -> ingestion committed): ${spread(ok.map((e) => e.ms))}`,
      `    free text (${free.length}): ${spread(free.map((e) => e.ms))}; ` +
        `structured only (${structured.length}): ${spread(structured.map((e) => e.ms))}`,
      `  model calls per episode: ${perEpisode(calls(ok), ok.length)} overall; ` +
        `free text ${perEpisode(calls(free), free.length)}, structured only ${perEpisode(calls(structured), structured.length)}`,
      `    as recorded: episodes' modelCalls ${int(r.recorded.episodeModelCalls)} over ${int(r.recorded.ingested)} INGESTED ` +
        `(${perEpisode(r.recorded.episodeModelCalls, r.recorded.ingested)}/episode), :LLMCall nodes (purpose memory) ${int(r.recorded.llmCalls)}`,
      `  wrote: ${int(sum((x) => x.entitiesCreated))} entities, ${int(sum((x) => x.factsCreated))} facts, ` +
        `${int(sum((x) => x.factsEnded))} facts ended by contradiction, ${int(sum((x) => x.merges))} merges; ` +
        `the tenant now holds ${int(r.counts.entities)} entities (${int(r.counts.merged)} merged away), ` +
        `${int(r.counts.facts)} facts (${int(r.counts.currentFacts)} current)`,
      mergeLines(r.merges),
      `  failed or lost their lease: ${failed.length + (r.episodes.length - ok.length - failed.length)}` +
        (failed[0] ? `; first error: ${failed[0].error!.slice(0, 300)}` : ''),
    ].join('\n'),
  );
}

export function printLatency(r: LatencyResult, bulkEmbedder: string): void {
  console.log(
    [
      `  store: ${int(r.facts)} facts, ${int(r.entities)} entities, ${int(r.episodes)} episodes; ` +
        `this step's writes took ${r.writeSeconds.toFixed(1)} s (vectors: ${bulkEmbedder})`,
      `    of which ${r.writeSplit}`,
      `  searchMemory (BM25 + vectors, RRF; first 10): ${spread(r.hybridMs)}`,
      `  full-text only (BM25 on memory_text, 60 candidates): ${spread(r.bm25Ms)}`,
      `  parts, timed apart: the vector retriever (embed the query, vectorSearch on 3 labels): ${spread(r.vectorMs)}`,
      `  and its visibility query (visibleItems) over those candidates: ${spread(r.visibleMs)}`,
      `  ratio searchMemory/full-text: p50 ${ratio(median(r.hybridMs), median(r.bm25Ms))}, ` +
        `p99 ${ratio(percentile(r.hybridMs, 99), percentile(r.bm25Ms, 99))}`,
      `  the asked fact among the first 10 hits: searchMemory ${r.hybridFound}/${r.queries}, full-text ${r.bm25Found}/${r.queries}`,
      ...(r.queryEmbedMs.length
        ? [
            `  + the local model embedding one query (not in the times above): ${spread(r.queryEmbedMs)}`,
          ]
        : []),
    ].join('\n'),
  );
}

export function printQuality(r: QualityResult): void {
  const ok = r.episodes.filter((e) => e.result?.committed);
  const calls = ok.reduce((s, e) => s + (e.result?.modelCalls ?? 0), 0);
  console.log(
    [
      `  ${ok.length}/${r.episodes.length} corpus episodes ingested, one at a time in date order: ` +
        `${spread(ok.map((e) => e.ms))}; model calls ${perEpisode(calls, ok.length)}/episode ` +
        `(:LLMCall nodes ${int(r.recorded.llmCalls)})`,
      `  graph: ${int(r.counts.entities)} entities (${int(r.counts.merged)} merged away), ` +
        `${int(r.counts.facts)} facts, ${int(r.counts.currentFacts)} current`,
      mergeLines(r.merges),
      `  questions whose answer some extracted fact states: ${r.answerable}/${r.questions}`,
      table(
        ['method', 'questions', 'n', 'recall@5', 'MRR@10', 'stale@1'],
        r.scores.map((s) => [
          s.method,
          s.group,
          String(s.questions),
          pct(s.recallAt5),
          s.mrr.toFixed(3),
          pct(s.staleAt1),
        ]),
      ),
      '  asOf at system time = the moment the ingestion had read the episodes up to the date asked;',
      '  asOf at the world date finds nothing: searchMemory keeps what was valid AND known (recorded)',
      "  then, and the corpus was recorded today (its dates are the episodes' occurredAt, world time).",
      ...(r.staleFirst.length
        ? [
            `  searchMemory (hybrid), current questions whose first hit is superseded:`,
            ...r.staleFirst.map(
              (m) =>
                `    - "${m.q}": expected ${m.answer}; first hit: "${m.top.replace(/\s+/g, ' ').slice(0, 110)}"`,
            ),
          ]
        : []),
      ...(r.misses.length
        ? [
            `  searchMemory (hybrid) missed in the first 5 (asOf at system time):`,
            ...r.misses.map(
              (m) =>
                `    - "${m.q}"${m.asOf ? ` asOf ${m.asOf}` : ''}: expected ${m.answer}; first hit: ${m.top ? `"${m.top.replace(/\s+/g, ' ').slice(0, 110)}"` : 'none'}`,
            ),
          ]
        : []),
    ].join('\n'),
  );
}

export interface Summary {
  chat: string;
  embedder: string;
  bulkEmbedder: string;
  ingest?: IngestPhaseResult;
  latency: LatencyResult[];
  quality?: QualityResult;
}

const find = (scores: Score[], method: string, group: string) =>
  scores.find((s) => s.method === method && s.group === group);

export function printSummary(s: Summary): void {
  const lines = [`\n== Summary (chat model: ${s.chat}; embedder: ${s.embedder}) ==`];
  if (s.ingest) {
    const ok = s.ingest.episodes.filter((e) => e.result?.committed);
    const calls = ok.reduce((n, e) => n + (e.result?.modelCalls ?? 0), 0);
    lines.push(
      'Ingestion:',
      table(
        ['episodes', 'episodes/s', 'p50/episode', 'p99/episode', 'model calls/episode'],
        [
          [
            int(s.ingest.n),
            (s.ingest.n / s.ingest.seconds).toFixed(1),
            ms(median(ok.map((e) => e.ms))),
            ms(
              percentile(
                ok.map((e) => e.ms),
                99,
              ),
            ),
            perEpisode(calls, ok.length),
          ],
        ],
      ),
    );
  }
  if (s.latency.length) {
    lines.push(
      `Retrieval latency (vectors: ${s.bulkEmbedder}):`,
      table(
        [
          'facts',
          'searchMemory p50',
          'p99',
          'full-text p50',
          'p99',
          'p50 ratio',
          'found@10 hybrid/full-text',
        ],
        s.latency.map((r) => [
          int(r.facts),
          ms(median(r.hybridMs)),
          ms(percentile(r.hybridMs, 99)),
          ms(median(r.bm25Ms)),
          ms(percentile(r.bm25Ms, 99)),
          ratio(median(r.hybridMs), median(r.bm25Ms)),
          `${r.hybridFound}/${r.bm25Found} of ${r.queries}`,
        ]),
      ),
    );
  }
  if (s.quality) {
    const q = s.quality.scores;
    const row = (label: string, method: string, group: string, base: Score | undefined) => {
      const x = find(q, method, group);
      return x
        ? [
            label,
            pct(x.recallAt5),
            x.mrr.toFixed(3),
            base ? pct(base.recallAt5) : 'n/a',
            base ? base.mrr.toFixed(3) : 'n/a',
          ]
        : [label, 'n/a', 'n/a', 'n/a', 'n/a'];
    };
    const ftCurrent = find(q, 'full-text only (BM25)', 'current');
    const ftPast = find(q, 'full-text only (BM25)', 'asOf (no time filter)');
    lines.push(
      'Retrieval quality on bench/memory-corpus.json:',
      table(
        ['questions', 'hybrid recall@5', 'hybrid MRR', 'full-text recall@5', 'full-text MRR'],
        [
          row('current', 'searchMemory (hybrid)', 'current', ftCurrent),
          row('asOf, system time', 'searchMemory (hybrid)', 'asOf: system time', ftPast),
          row('asOf, world date', 'searchMemory (hybrid)', 'asOf: world date', ftPast),
        ],
      ),
    );
  }
  console.log(lines.join('\n'));
}
