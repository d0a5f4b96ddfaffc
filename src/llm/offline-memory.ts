/**
 * The offline model's memory extraction (issue 11): a deterministic heuristic, not a model.
 * Capitalised names become entities with a guessed type; "X is/has/was/reported/costs Y"
 * sentences and "metric: number" pairs become facts. It reads the prompt memory ingestion
 * writes (src/memory/ingest/prompt.ts): a "Known entities" list, then the episode after "Text:".
 * Everything it says is labelled as the offline model's guess.
 */
import { normalisePredicate } from '../domain/memory.js';
import { normaliseName } from '../memory/normalise.js';

/** An extracted entity, keyed as the offline filler's hints name fields (offline-fill.ts). */
export type OfflineEntity = { title: string; kind: string; summary: string };
/** An extracted fact: `title` is the subject (`subject` answers to the `title` hint). */
export type OfflineFact = {
  title: string;
  predicate: string;
  object: string | null;
  value: string;
  validfrom: string | null;
  confidence: number;
};

const STOP = new Set(
  (
    'the a an in on at this that these those it its we our their they he she his her by for from ' +
    'with and but as after before during since today yesterday tomorrow when while if then also ' +
    'january february march april may june july august september october november december ' +
    'monday tuesday wednesday thursday friday saturday sunday q1 q2 q3 q4 i you'
  ).split(' '),
);
const ORGANISATION =
  /\b(?:corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|bank|group|holdings|labs|systems|technologies|university|institute|agency|ministry|company|co|partners|capital|foundation)\.?$/i;
const ROLES = new Set(
  'mr mrs ms dr prof ceo cfo cto coo founder director manager chair president'.split(' '),
);
const PERSON_BEFORE =
  /\b(?:mr|mrs|ms|dr|prof|ceo|cfo|cto|coo|founder|director|manager|chair|president)\.?\s*$/i;
const FACT_VERB =
  /^(.*?)\s+(is|are|was|were|has|have|had|reported|reports|posted|costs|cost|earns|earned|employs|employed|owns|owned|acquired|hired|raised|launched|opened|closed|became|remains)\s+(.+?)[.!]?$/i;
const REPORTING = /^(?:reported|reports|posted)$/i;
const LEADING_VERB = /^\s*(?:is|are|was|were|has|have|had)\s+/i;
const METRIC =
  /([\p{L}][\p{L} ]{1,40}?)\s*:\s*([-+]?[$€£]?\d[\d.,]*\s*(?:%|bn|[kmb]|million|billion)?)(?=[\s,;.]|$)/giu;
/** A value that is itself "metric: number". */
const METRIC_VALUE = new RegExp(`^${METRIC.source}`, 'iu');
const NAME = /(?<![\p{L}\p{N}])\p{Lu}[\p{L}\p{N}&'’-]*\.?(?:\s+\p{Lu}[\p{L}\p{N}&'’-]*\.?)*/gu;
const ABBREVIATION = /\b(Corp|Inc|Ltd|Co|Mr|Mrs|Ms|Dr|St|Jr|Sr|No|vs|etc)\./g;
const HELD_DOT = '\u2024';

/** Sentences of the text, not split after "Corp." or "Dr.". */
export function memorySentences(text: string): string[] {
  return text
    .replace(ABBREVIATION, `$1${HELD_DOT}`)
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replaceAll(HELD_DOT, '.').trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

/** What the prompt says: the known entities, and the episode's text. */
export function readMemoryPrompt(input: string): {
  known: { name: string; type: string }[];
  text: string;
} {
  const at = input.search(/^Text:\s*$/m);
  const head = at < 0 ? '' : input.slice(0, at);
  const text = at < 0 ? input : input.slice(at).replace(/^Text:\s*\n?/, '');
  const known = [...head.matchAll(/^- (.+?) \(([^)]*)\)\s*$/gm)].map((m) => ({
    name: m[1]!.trim(),
    type: m[2]!.trim(),
  }));
  return { known, text };
}

/** Entities and facts of the prompt's text, by the heuristics above. */
export function extractMemory(input: string): { entities: OfflineEntity[]; facts: OfflineFact[] } {
  const { known, text } = readMemoryPrompt(input);
  const knownByNorm = new Map(known.map((k) => [normaliseName(k.name), k]));
  const entities = new Map<string, OfflineEntity>();
  const sentenceList = memorySentences(text);
  const add = (raw: string, sentence: string, before: string) => {
    const name = raw
      .replace(/[.,;:]+$/, '')
      .replace(/['’]s$/, '')
      .trim();
    const norm = normaliseName(name);
    if (!norm || entities.has(norm)) return entities.get(norm)?.title;
    const k = knownByNorm.get(norm);
    const type =
      k?.type ??
      (ORGANISATION.test(name)
        ? 'Organisation'
        : PERSON_BEFORE.test(before)
          ? 'Person'
          : 'Concept');
    const clipped = sentence.length > 160 ? `${sentence.slice(0, 159)}…` : sentence;
    // The text's own spelling: resolution (not this heuristic) matches it to a known entity.
    entities.set(norm, {
      title: name,
      kind: type,
      summary: `Mentioned in: "${clipped}" (offline model: a guess)`,
    });
    return name;
  };
  const names = sentenceList.map((sentence) => {
    const found: string[] = [];
    for (const m of sentence.matchAll(NAME)) {
      const words = m[0].split(/\s+/);
      let before = sentence.slice(0, m.index);
      for (;;) {
        const first = words[0]?.replace(/\.$/, '').toLowerCase();
        if (first === undefined || !(STOP.has(first) || ROLES.has(first))) break;
        before += ` ${words.shift()}`;
      }
      if (words.length === 0) continue;
      const atStart = before.trim() === '';
      const name = words.join(' ');
      // A lone capitalised word opening a sentence is usually just that ("Revenue is ...").
      if (atStart && words.length === 1 && !knownByNorm.has(normaliseName(name))) {
        const elsewhere = text.split(name).length > 2;
        if (!elsewhere) continue;
      }
      const added = add(name, sentence, before);
      if (added) found.push(added);
    }
    // Known entities named in lower case or mid-phrase still count.
    const lower = ` ${normaliseName(sentence)} `;
    for (const [norm, k] of knownByNorm) {
      if (lower.includes(` ${norm} `) && !found.includes(k.name)) {
        const added = add(k.name, sentence, '');
        if (added) found.push(added);
      }
    }
    return found;
  });
  const facts: OfflineFact[] = [];
  const firstEntity = [...entities.values()][0]?.title ?? null;
  sentenceList.forEach((sentence, i) => {
    const date = /\b(\d{4}-\d{2}-\d{2})\b/.exec(sentence)?.[1];
    const validfrom = date ? `${date}T00:00:00.000Z` : null;
    const m = FACT_VERB.exec(sentence);
    // The subject opens the phrase before the verb ("Acme's revenue is"), else ends it.
    const subject = m
      ? (names[i]!.find((n) => startsWithName(m[1]!, n)) ??
        names[i]!.find((n) => endsWithName(m[1]!, n)))
      : undefined;
    if (m && subject) {
      let predicate = startsWithName(m[1]!, subject)
        ? normalisePredicate(restAfterName(m[1]!, subject))
        : '';
      let value = m[3]!
        .trim()
        .replace(/\s+(?:on|in|as of|since|from)\s+\d{4}(?:-\d{2}){0,2}$/i, '');
      const of = REPORTING.test(m[2]!)
        ? /^(?:a |an |the )?([\p{L} ]{1,40}?) of (.+)$/iu.exec(value)
        : null;
      if (!predicate && of) {
        predicate = normalisePredicate(of[1]!);
        value = of[2]!;
      }
      // "X has revenue: 15M" is a metric of X (read below), not X "has" "revenue: 15M".
      const metric = !predicate && METRIC_VALUE.test(value);
      if (!predicate) predicate = normalisePredicate(m[2]!);
      const objectNorm = normaliseName(value.replace(/^(?:a|an|the)\s+/i, ''));
      const object = names[i]!.find((n) => normaliseName(n) === objectNorm) ?? null;
      if (!metric)
        facts.push({ title: subject, predicate, object, value, validfrom, confidence: 0.6 });
    }
    for (const metric of sentence.matchAll(METRIC)) {
      const owner = names[i]![0] ?? firstEntity;
      // The label without its owner's name and verb: "ACME Corporation has revenue" is revenue.
      const label =
        owner && startsWithName(metric[1]!, owner) ? restAfterName(metric[1]!, owner) : metric[1]!;
      const predicate = normalisePredicate(label.replace(LEADING_VERB, ''));
      if (!owner || !predicate) continue;
      if (facts.some((f) => f.title === owner && f.predicate === predicate)) continue;
      const value = metric[2]!.trim().replace(/[.,]+$/, '');
      facts.push({ title: owner, predicate, object: null, value, validfrom, confidence: 0.6 });
    }
  });
  return { entities: [...entities.values()], facts };
}

/** The words of `phrase` after the longest opening that is `name` ("Acme's revenue" -> "revenue"). */
function restAfterName(phrase: string, name: string): string {
  const words = phrase.trim().split(/\s+/);
  const norm = normaliseName(name);
  let rest = '';
  for (let k = 1; k <= words.length; k++) {
    const opening = words
      .slice(0, k)
      .join(' ')
      .replace(/['’]s$/, '');
    if (normaliseName(opening) === norm) rest = words.slice(k).join(' ');
  }
  return rest;
}

function endsWithName(phrase: string, name: string): boolean {
  const p = normaliseName(phrase);
  const n = normaliseName(name);
  return p === n || p.endsWith(` ${n}`);
}

function startsWithName(phrase: string, name: string): boolean {
  const p = normaliseName(phrase);
  const n = normaliseName(name);
  return p === n || p.startsWith(`${n} `);
}

/**
 * The offline judge: two statements contradict when they say different things (after case and
 * punctuation), which is the conservative reading for a single subject and predicate.
 */
export function judgeMemory(input: string): { contradicts: boolean; feedback: string } {
  const current = /^Current:\s*(.+)$/im.exec(input)?.[1] ?? '';
  const next = /^New:\s*(.+)$/im.exec(input)?.[1] ?? '';
  const differ = normaliseName(current) !== normaliseName(next);
  return {
    contradicts: differ,
    feedback: differ
      ? 'The offline model takes two different statements of one predicate as a contradiction.'
      : 'The offline model sees the same statement twice.',
  };
}
