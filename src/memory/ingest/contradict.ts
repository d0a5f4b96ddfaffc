/**
 * Contradiction (issue 11): what a new fact does to the current facts of its subject and
 * predicate. The same value again only adds a source; another value ends the old fact, at once
 * for a single-valued predicate (a number, a date, or a predicate that holds one value at a
 * time), else only when the judge says so. No candidate, no judge call. Time decides which of
 * two contradicting facts ends: a fact that began to hold later is never ended by one that
 * began earlier (an older episode ingested late: a retry, a race); the older one ends instead.
 */
import type { Fact } from '../../domain/memory.js';

/** Predicates that hold one value at a time (matched on the last word of lower_snake). */
export const SINGLE_VALUED = new Set([
  'revenue',
  'priority',
  'done_by',
  'price',
  'cost',
  'costs',
  'ceo',
  'cfo',
  'cto',
  'headquarters',
  'headquartered_in',
  'based_in',
  'located_in',
  'location',
  'status',
  'owner',
  'population',
  'employees',
  'headcount',
  'founded',
  'valuation',
  'share',
  'budget',
  'profit',
  'age',
  'address',
  'version',
  'rating',
  'score',
  'capital',
  'total',
  'count',
]);

const NUMBER =
  /^[-+]?[$€£]?\s*\d[\d,.]*\s*(?:%|k|m|b|bn|mn|million|billion|thousand|usd|eur|gbp)?\.?$/i;
const DATE = /^\d{4}-\d{2}(?:-\d{2})?(?:T[\d:.]+Z?)?$/;

/** Whether a new value of the predicate simply replaces the old one (no judge needed). */
export function isSingleValued(predicate: string, value: string): boolean {
  const v = value.trim();
  if (NUMBER.test(v) || DATE.test(v)) return true;
  const last = predicate.split('_').at(-1) ?? predicate;
  return SINGLE_VALUED.has(predicate) || SINGLE_VALUED.has(last);
}

/** Values compared as a person would: case, spaces and end punctuation aside. */
export function sameValue(a: string, b: string): boolean {
  const tidy = (s: string) =>
    s
      .trim()
      .toLowerCase()
      .replace(/\s+/g, ' ')
      .replace(/[.!;,]+$/, '');
  return tidy(a) === tidy(b);
}

/** A new fact as contradiction sees it. */
export interface Incoming {
  subjectId: string;
  predicate: string;
  objectId: string | null;
  value: string;
  /** When it began to hold in the world; null: unknown (it then ends what it contradicts). */
  validFrom: string | null;
}

export type Verdict =
  /** The same fact is known: add the episode as a source. */
  | { kind: 'confirm'; factId: string }
  /**
   * A new fact; `ends` are ended by it at once, `ask` go to the judge, and `endedBy` is the
   * current fact that began later and so ends the new one (null: it holds).
   */
  | { kind: 'new'; ends: Fact[]; ask: Fact[]; endedBy: Fact | null };

/** Whether `fact` began to hold after `incoming` did (both times known). */
function later(fact: Fact, incoming: Incoming): boolean {
  if (!fact.validFrom || !incoming.validFrom) return false;
  return Date.parse(fact.validFrom) > Date.parse(incoming.validFrom);
}

/**
 * Splits the facts a new one contradicts by time: those that began no later end, and the
 * earliest of those that began later ends the new one.
 */
export function byTime(
  incoming: Incoming,
  contradicted: readonly Fact[],
): { ends: Fact[]; endedBy: Fact | null } {
  const ends = contradicted.filter((f) => !later(f, incoming));
  const newer = contradicted
    .filter((f) => later(f, incoming))
    .sort((a, b) => Date.parse(a.validFrom!) - Date.parse(b.validFrom!));
  return { ends, endedBy: newer[0] ?? null };
}

/** What to do with one incoming fact, given the subject's current facts. */
export function decide(fact: Incoming, current: readonly Fact[]): Verdict {
  const candidates = current.filter(
    (f) => f.subjectId === fact.subjectId && f.predicate === fact.predicate,
  );
  const same = candidates.find(
    (f) => f.objectId === fact.objectId && sameValue(f.value, fact.value),
  );
  if (same) return { kind: 'confirm', factId: same.id };
  if (candidates.length === 0) return { kind: 'new', ends: [], ask: [], endedBy: null };
  if (isSingleValued(fact.predicate, fact.value)) {
    return { kind: 'new', ask: [], ...byTime(fact, candidates) };
  }
  return { kind: 'new', ends: [], ask: candidates, endedBy: null };
}

/** A fact ended by a newer one: valid until `validUntil`, REPLACED_BY `replacedById`. */
export interface Ending {
  id: string;
  replacedById: string;
  validUntil: string | null;
}

/** How a fact ends when `by` contradicts it: until `by` began to hold, REPLACED_BY it. */
export function ending(fact: { id: string }, by: { id: string; validFrom: string | null }) {
  return { id: fact.id, replacedById: by.id, validUntil: by.validFrom };
}

/**
 * New facts decided again, at commit and under their subjects' locks, against the current facts
 * another episode committed since they were decided: a value said again is confirmed instead of
 * written twice, and a single value ends the one it replaces (or, begun earlier, is ended by
 * it). A free-text contradiction would need the judge, a model call, which has no place inside
 * the commit: the next episode's.
 */
export function redecide<F extends Incoming & { id: string }>(
  facts: readonly F[],
  committedSince: readonly Fact[],
): { kept: F[]; confirmed: string[]; ends: Ending[] } {
  const kept: F[] = [];
  const confirmed: string[] = [];
  const ends: Ending[] = [];
  for (const fact of facts) {
    const verdict = decide(fact, committedSince);
    if (verdict.kind === 'confirm') {
      confirmed.push(verdict.factId);
      continue;
    }
    kept.push(fact);
    for (const old of verdict.ends) ends.push(ending(old, fact));
    if (verdict.endedBy) ends.push(ending(fact, verdict.endedBy));
  }
  return { kept, confirmed, ends };
}

/** One ending per fact: the earliest (a fact ends when the first later fact began). */
export function firstEndings(ends: Ending[]): Ending[] {
  const first = new Map<string, Ending>();
  const at = (e: Ending) => (e.validUntil ? Date.parse(e.validUntil) : Infinity);
  for (const e of ends) {
    const seen = first.get(e.id);
    if (!seen || at(e) < at(seen)) first.set(e.id, e);
  }
  return [...first.values()];
}
