import { describe, expect, it } from 'vitest';
import type { Entity, Fact } from '../src/domain/memory.js';
import { extractMemory, judgeMemory } from '../src/llm/offline-memory.js';
import { toStrictJsonSchema } from '../src/llm/strict-schema.js';
import { loadConfig } from '../src/config/config.js';
import { ingestionFromConfig } from '../src/engine/start.js';
import { createLogger } from '../src/logger.js';
import type { UnitOfWork } from '../src/services/unit-of-work.js';
import { decide, isSingleValued, redecide } from '../src/memory/ingest/contradict.js';
import { ExtractionSchema, JudgeSchema, plainNames } from '../src/memory/ingest/extract.js';
import { mentionsOf, nameGrams } from '../src/memory/ingest/mentions.js';
import { addsWords, resolveMentions, type Mention } from '../src/memory/ingest/resolve.js';
import { freeText, numbersAsFacts, structuredExtraction } from '../src/memory/ingest/structured.js';
import { normaliseName } from '../src/memory/normalise.js';
import { openAIStrictSchemaProblems } from './utils/strict-schema.js';

// Memory ingestion's pure parts (issue 11): resolution, contradiction, structured facts, and
// the offline model's heuristic extraction. No database.

const at = (n: number) => new Date(Date.UTC(2026, 0, n)).toISOString();
const entity = (id: string, name: string, type = 'Organisation', created = 1): Entity => ({
  id,
  tenantId: 't',
  name,
  normName: normaliseName(name),
  type,
  summary: '',
  aliases: [],
  mergedInto: null,
  createdAt: at(created),
  updatedAt: at(created),
});
const mention = (name: string, type = 'Organisation'): Mention => ({
  name,
  normName: normaliseName(name),
  type,
  summary: '',
});
const fact = (id: string, subjectId: string, predicate: string, value: string): Fact => ({
  id,
  tenantId: 't',
  subjectId,
  predicate,
  objectId: null,
  value,
  text: `${predicate} ${value}`,
  confidence: 1,
  validFrom: null,
  validUntil: null,
  recordedAt: at(1),
  expiredAt: null,
  replacedById: null,
  createdAt: at(1),
  updatedAt: at(1),
});

describe('entity resolution', () => {
  const acme = entity('acme', 'Acme Corp.');

  it('resolves "ACME Corporation" to "Acme Corp." by normalised name and records the alias', () => {
    const { resolutions } = resolveMentions({
      mentions: [mention('ACME Corporation')],
      exact: [acme],
      similar: [[]],
      neighbours: new Map(),
      threshold: 0.85,
    });
    expect(resolutions).toEqual([
      { kind: 'existing', entityId: 'acme', via: 'exact', alias: 'ACME Corporation' },
    ]);
  });

  it('keeps "Acme Bank" apart from "Acme" even when their embeddings are close', () => {
    const { resolutions } = resolveMentions({
      mentions: [mention('Acme Bank')],
      exact: [],
      similar: [[{ entity: acme, cosine: 0.97 }]],
      neighbours: new Map([['acme', ['berlin']]]),
      threshold: 0.85,
    });
    expect(resolutions).toEqual([{ kind: 'new' }]);
    expect(addsWords('acme bank', 'acme')).toBe(true);
  });

  it('takes a strong embedding match of a compatible type, and refuses another type', () => {
    const input = {
      mentions: [mention('Acme Industries Group')],
      exact: [],
      similar: [[{ entity: entity('ai', 'Acme Industrial Group'), cosine: 0.95 }]],
      neighbours: new Map(),
      threshold: 0.85,
    };
    expect(resolveMentions(input).resolutions[0]).toMatchObject({
      kind: 'existing',
      via: 'embedding',
    });
    const person = { ...input, mentions: [mention('Acme Industries Group', 'Person')] };
    expect(resolveMentions(person).resolutions[0]).toEqual({ kind: 'new' });
  });

  it('confirms a borderline embedding match only when the neighbourhoods overlap', () => {
    const base = {
      mentions: [mention('Globex Holdings'), mention('Springfield', 'Place')],
      exact: [],
      similar: [[{ entity: entity('g', 'Globex Holding Co'), cosine: 0.87 }], []],
      threshold: 0.85,
    };
    const apart = resolveMentions({ ...base, neighbours: new Map([['g', ['shelbyville']]]) });
    expect(apart.resolutions[0]).toEqual({ kind: 'new' });
    const shared = resolveMentions({ ...base, neighbours: new Map([['g', ['springfield']]]) });
    expect(shared.resolutions[0]).toMatchObject({ kind: 'existing', via: 'neighbourhood' });
  });

  it('never takes or merges an entity whose name shares nothing with the mention, however close the vectors (bench:memory merged a person into a farm)', () => {
    const farm = entity('farm', 'Kite Meadow Farms', 'Concept', 1);
    const ana = entity('ana', 'Ana Ruiz', 'Concept', 2);
    // Two names in one sentence: the offline model's summaries made their vectors 0.93 apart.
    const { resolutions, merges } = resolveMentions({
      mentions: [mention('Kite Meadow Farms', 'Concept'), mention('Ana Ruiz', 'Concept')],
      exact: [farm],
      similar: [[{ entity: ana, cosine: 0.93 }], [{ entity: farm, cosine: 0.96 }]],
      neighbours: new Map(),
      threshold: 0.85,
    });
    expect(merges).toEqual([]);
    expect(resolutions[0]).toMatchObject({ kind: 'existing', entityId: 'farm' });
    expect(resolutions[1]).toEqual({ kind: 'new' });
  });

  it('keeps names that differ in a number apart, however close the vectors ("Zorg2 Ltd" joined "Zorg1 Ltd")', () => {
    const zorg1 = entity('z1', 'Zorg1 Ltd', 'Organisation', 1);
    const windows10 = entity('w10', 'Windows 10', 'Product', 1);
    const { resolutions, merges } = resolveMentions({
      mentions: [mention('Zorg2 Ltd'), mention('Windows 11', 'Product'), mention('Zorg-1 Ltd')],
      exact: [],
      similar: [
        [{ entity: zorg1, cosine: 0.99 }],
        [{ entity: windows10, cosine: 0.99 }],
        [{ entity: zorg1, cosine: 0.99 }],
      ],
      neighbours: new Map(),
      threshold: 0.85,
    });
    expect(merges).toEqual([]);
    expect(resolutions.slice(0, 2)).toEqual([{ kind: 'new' }, { kind: 'new' }]);
    // The same number, spelt otherwise, still resolves.
    expect(resolutions[2]).toMatchObject({ kind: 'existing', entityId: 'z1' });
  });

  it('merges two existing entities the episode shows to be one, the younger into the older', () => {
    const older = entity('old', 'IBM', 'Organisation', 1);
    const younger = entity('young', 'I.B.M. Corporation', 'Organisation', 2);
    const { resolutions, merges } = resolveMentions({
      mentions: [mention('IBM')],
      exact: [older],
      similar: [[{ entity: younger, cosine: 0.99 }]],
      neighbours: new Map(),
      threshold: 0.85,
    });
    expect(resolutions[0]).toMatchObject({ kind: 'existing', entityId: 'old' });
    expect(merges).toEqual([
      expect.objectContaining({
        fromId: 'young',
        intoId: 'old',
        reason: expect.stringContaining('I.B.M. Corporation'),
      }),
    ]);
  });
});

describe('contradiction', () => {
  const current = [fact('f1', 's', 'revenue', '12M'), fact('f2', 's', 'office_in', 'Paris')];

  it('confirms the same value (case and end punctuation aside) instead of adding a fact', () => {
    expect(
      decide(
        { subjectId: 's', predicate: 'revenue', objectId: null, value: '12m.', validFrom: null },
        current,
      ),
    ).toEqual({
      kind: 'confirm',
      factId: 'f1',
    });
  });

  it('ends a single-valued fact at once, with no judge', () => {
    const v = decide(
      { subjectId: 's', predicate: 'revenue', objectId: null, value: '15M', validFrom: null },
      current,
    );
    expect(v).toMatchObject({ kind: 'new', ask: [] });
    expect(v.kind === 'new' && v.ends.map((f) => f.id)).toEqual(['f1']);
  });

  it('asks the judge only for a candidate of a predicate that may hold several values', () => {
    const asked = decide(
      { subjectId: 's', predicate: 'office_in', objectId: null, value: 'Berlin', validFrom: null },
      current,
    );
    expect(asked.kind === 'new' && asked.ask.map((f) => f.id)).toEqual(['f2']);
    const none = decide(
      { subjectId: 's', predicate: 'founded_by', objectId: null, value: 'Jo', validFrom: null },
      current,
    );
    expect(none).toEqual({ kind: 'new', ends: [], ask: [], endedBy: null });
  });

  it('lets a fact that began later end an older newcomer instead of being ended by it', () => {
    const march = { ...fact('f3', 's', 'revenue', '20M'), validFrom: at(60) };
    const older = { subjectId: 's', predicate: 'revenue', objectId: null, value: '10M' };
    const v = decide({ ...older, validFrom: at(1) }, [march]);
    expect(v).toEqual({ kind: 'new', ends: [], ask: [], endedBy: march });
    const newer = decide({ ...older, validFrom: at(90) }, [march]);
    expect(newer).toEqual({ kind: 'new', ends: [march], ask: [], endedBy: null });
    // The same at commit, against a fact another episode committed meanwhile (a race).
    const raced = redecide([{ ...older, id: 'jan', validFrom: at(1) }], [march]);
    expect(raced.ends).toEqual([{ id: 'jan', replacedById: 'f3', validUntil: at(60) }]);
  });

  it('takes numbers, dates and listed predicates as single-valued', () => {
    expect(isSingleValued('members', '1,200')).toBe(true);
    expect(isSingleValued('launch', '2026-03-01')).toBe(true);
    expect(isSingleValued('annual_revenue', 'twelve million')).toBe(true);
    expect(isSingleValued('office_in', 'Berlin')).toBe(false);
  });
});

describe('structured facts', () => {
  it('turns the numbers of a JSON output into facts about the task, without free text', () => {
    const output = { revenue: 12, costs: { q1: 3 }, note: 'ok', list: [1, 2] };
    const s = numbersAsFacts(output, { name: 'Q3 report', type: 'Task', summary: 'the report' });
    const x = structuredExtraction(s);
    expect(x.facts.map((f) => [f.subject, f.predicate, f.value])).toEqual([
      ['Q3 report', 'revenue', '12'],
      ['Q3 report', 'costs_q1', '3'],
    ]);
    expect(freeText(JSON.stringify(output))).toBe('');
    expect(freeText(JSON.stringify({ summary: 'Acme grew fast this quarter.' }))).toBe(
      'Acme grew fast this quarter.',
    );
    expect(numbersAsFacts('plain text', { name: 'x', type: 'Task', summary: '' })).toBeNull();
  });

  it('adds a fact’s subject as an entity when the extraction did not list it', () => {
    const m = mentionsOf({
      entities: [{ name: 'Acme Corp.', type: 'Organisation', summary: 'a firm' }],
      facts: [
        {
          subject: 'ACME Corporation',
          predicate: 'ceo',
          object: 'Jane Doe',
          value: 'Jane Doe',
          validFrom: null,
          confidence: 1,
        },
      ],
    });
    expect(m.map((x) => [x.name, x.normName])).toEqual([
      ['Acme Corp.', 'acme'],
      ['Jane Doe', 'jane doe'],
    ]);
    expect(nameGrams('Acme Corp. and Jane Doe')).toContain('jane doe');
  });

  it('turns control and text-direction characters in extracted names into spaces, and bounds them', () => {
    // A model's names are shown in lists like people's: one must not pass for another. A fact
    // names its subject as the entity it is about: both are cleaned alike, so they still meet.
    const long = 'Acme '.repeat(100);
    const fact = { predicate: 'ceo', value: 'x', validFrom: null, confidence: 1 };
    const x = plainNames({
      entities: [
        { name: 'Ali\u202Ecila\n', type: 'Per\u0000son', summary: 'a person' },
        { name: long, type: 'Organisation', summary: '' },
      ],
      facts: [{ ...fact, subject: long, object: 'Ali\u202Ecila' }],
    });
    const bounded = long.slice(0, 200).trim();
    expect(mentionsOf(x).map((m) => [m.name, m.type])).toEqual([
      ['Ali cila', 'Per son'],
      [bounded, 'Organisation'],
    ]);
    expect(x.facts.map((f) => [f.subject, f.object])).toEqual([[bounded, 'Ali cila']]);
  });
});

describe('the offline model’s memory extraction (a heuristic, labelled)', () => {
  it('finds capitalised names in the text’s own spelling, takes a known entity’s type, and reads "X is Y" and "metric: number"', () => {
    const prompt = [
      'Known entities (reuse these exact names when the text means them):',
      '- Acme Corp (Organisation)',
      'Text:',
      "ACME Corporation's revenue was 15M on 2025-01-01. Acme Bank has 300 branches.",
      'Headcount: 120, churn: 3%',
    ].join('\n');
    const { entities, facts } = extractMemory(prompt);
    expect(entities.map((e) => [e.title, e.kind])).toEqual([
      ['ACME Corporation', 'Organisation'],
      ['Acme Bank', 'Organisation'],
    ]);
    expect(entities[0]!.summary).toContain('offline model');
    expect(facts.map((f) => [f.title, f.predicate, f.value, f.validfrom])).toEqual([
      ['ACME Corporation', 'revenue', '15M', '2025-01-01T00:00:00.000Z'],
      ['Acme Bank', 'has', '300 branches', null],
      ['ACME Corporation', 'headcount', '120', null],
      ['ACME Corporation', 'churn', '3%', null],
    ]);
    expect(judgeMemory('Judge: x\nCurrent: a is 1\nNew: a is 2').contradicts).toBe(true);
  });

  it('reads "X has revenue: N" as the revenue of X, however X is spelt, so a new number replaces the old', () => {
    const read = (text: string) =>
      extractMemory(`Text:\n${text}`).facts.map((f) => [f.title, f.predicate, f.value]);
    expect(read('Acme Corp. has revenue: 120 million')).toEqual([
      ['Acme Corp', 'revenue', '120 million'],
    ]);
    expect(read('ACME Corporation has revenue: 150 million')).toEqual([
      ['ACME Corporation', 'revenue', '150 million'],
    ]);
  });

  it('sends extraction and judge schemas that OpenAI strict structured outputs accept', () => {
    expect(openAIStrictSchemaProblems(toStrictJsonSchema(ExtractionSchema))).toEqual([]);
    expect(openAIStrictSchemaProblems(toStrictJsonSchema(JudgeSchema))).toEqual([]);
  });
});

describe('ingestion settings', () => {
  it('turns the queue off with MEMORY_INGESTION=off and names a bad value', () => {
    const on = loadConfig({});
    expect(on.ingestion).toMatchObject({ enabled: true, concurrency: 2, maxAttempts: 3 });
    const deps = { uow: {} as UnitOfWork, logger: createLogger('silent') };
    expect(ingestionFromConfig(on, deps)).toBeDefined();
    const off = loadConfig({ MEMORY_INGESTION: 'off', MEMORY_INGESTION_CONCURRENCY: '5' });
    expect(off.ingestion).toMatchObject({ enabled: false, concurrency: 5 });
    expect(ingestionFromConfig(off, deps)).toBeUndefined();
    expect(() => loadConfig({ MEMORY_INGESTION: 'maybe' })).toThrow(/MEMORY_INGESTION/);
    expect(() => loadConfig({ MEMORY_ENTITY_SIMILARITY: '2' })).toThrow(/MEMORY_ENTITY_SIMILARITY/);
  });
});
