/**
 * Phase 1 of `npm run bench:memory`: N episodes through the real ingestion (ingestEpisode, as
 * the IngestionQueue calls it) with the offline chat model, `concurrency` at a time. Free-text
 * episodes (one extraction call each, a judge call when a conflict is a candidate) are mixed
 * with structured-only ones (numbers as facts, no model call at all).
 */
import { randomUUID } from 'node:crypto';
import type { NewEpisode } from '../graph/memory/episode.repository.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import {
  ingestOne,
  progressBar,
  type IngestedEpisode,
  type MemoryBench,
} from './memory-context.js';
import { memoryCounts, mergesOf, recordedModelCalls, type MemoryCounts } from './memory-queries.js';
import { now } from './probe.js';

const COMPANIES = [
  'Amber Falcon Logistics',
  'Blue Harbor Foods',
  'Cinder Peak Mining',
  'Delta Fern Robotics',
  'Ember Vale Energy',
  'Frost Lantern Media',
  'Granite Owl Software',
  'Hollow Pine Textiles',
  'Iris Quarry Pharma',
  'Juniper Bay Shipping',
  'Kite Meadow Farms',
  'Lumen Ridge Optics',
];
const PEOPLE = [
  'Ana Ruiz',
  'Bo Chen',
  'Carla Diaz',
  'Dev Patel',
  'Eva Novak',
  'Femi Adeyemi',
  'Greta Lind',
  'Hugo Brandt',
  'Isla Moore',
  'Jae Park',
];
const CITIES = ['Oslo', 'Porto', 'Leeds', 'Graz', 'Turin', 'Ghent', 'Malmo', 'Cork'];

/** Share of episodes that carry structured facts only (no free text, no model call). */
const STRUCTURED_SHARE = 0.3;

const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length]!;

/** Episode i: deterministic, so two runs ingest the same stream. */
export function syntheticEpisode(i: number): NewEpisode & { structuredOnly: boolean } {
  const company = pick(COMPANIES, i * 7 + Math.floor(i / 12));
  const base = {
    kind: EpisodeKind.NOTE,
    sourceKey: `bench:${randomUUID()}`,
    occurredAt: null,
    scope: MemoryScope.TENANT,
    scopeId: null,
  };
  if ((i * 37) % 100 < STRUCTURED_SHARE * 100) {
    const revenue = (5 + ((i * 13) % 90) / 10).toFixed(1);
    const headcount = 100 + ((i * 31) % 400);
    return {
      ...base,
      structuredOnly: true,
      source: 'bench: a step result with numbers',
      content: JSON.stringify({ company, revenue, headcount }),
      structured: {
        entities: [{ name: company, type: 'Organisation', summary: `${company}, a company` }],
        facts: [
          { subject: company, predicate: 'revenue', value: revenue },
          { subject: company, predicate: 'headcount', value: String(headcount) },
        ],
      },
    };
  }
  const person = pick(PEOPLE, i * 3);
  const city = pick(CITIES, i * 5);
  const templates = [
    `${company} ceo is ${person}. ${company} announced the change at its annual meeting.`,
    `${company} revenue is ${(3 + ((i * 11) % 70) / 10).toFixed(1)} million for the quarter. Analysts expected less.`,
    `${company} headquarters is ${city}. The office has room for two hundred people.`,
    `${person} employer is ${company}. ${person} joined the data team this month.`,
    `The ${company} team met ${person} to review the roadmap; nothing was decided yet.`,
  ];
  return {
    ...base,
    structuredOnly: false,
    source: 'bench: a note',
    content: pick(templates, i),
  };
}

export interface IngestPhaseResult {
  n: number;
  concurrency: number;
  seconds: number;
  episodes: (IngestedEpisode & { structuredOnly: boolean })[];
  recorded: { episodeModelCalls: number; llmCalls: number; ingested: number };
  counts: MemoryCounts;
  merges: { from: string; into: string; reason: string }[];
}

export async function runIngestPhase(b: MemoryBench, tenantId: string): Promise<IngestPhaseResult> {
  const n = b.options.episodes;
  const concurrency = b.options.concurrency;
  const episodes: IngestPhaseResult['episodes'] = [];
  const bar = progressBar('ingesting', n, 'episodes');
  let next = 0;
  const started = now();
  const worker = async (w: number) => {
    const workerId = `bench-ingest-${w}-${randomUUID().slice(0, 8)}`;
    for (let i = next++; i < n; i = next++) {
      const { structuredOnly, ...episode } = syntheticEpisode(i);
      const done = await ingestOne(b, tenantId, episode, workerId);
      episodes.push({ ...done, structuredOnly });
      bar.tick(episodes.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (now() - started) / 1000;
  bar.done(episodes.length);
  return {
    n,
    concurrency,
    seconds,
    episodes,
    recorded: await recordedModelCalls(b.graph, tenantId),
    counts: await memoryCounts(b.graph, tenantId),
    merges: await mergesOf(b.graph, tenantId),
  };
}
