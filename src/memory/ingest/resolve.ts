/**
 * Entity resolution (issue 11), pure: which extracted names are entities the tenant knows.
 * 1. normalised exact match (normaliseName: "Acme Corp." = "ACME Corporation");
 * 2. embedding similarity at or above the threshold, with a compatible type and a name alike
 *    (namesAlike: vectors alone never join names that share nothing);
 * 3. neighbourhood overlap confirms the borderline ones: a score below threshold + margin, or a
 *    name that adds words to the other ("Acme Bank" vs "Acme"), which usually names another
 *    thing and stays apart unless both share a neighbour.
 */
import type { Entity } from '../../domain/memory.js';

/** An entity name as one episode gives it (deduplicated by normName). */
export interface Mention {
  name: string;
  normName: string;
  type: string;
  summary: string;
}

/** An existing entity near a mention by embedding; cosine in [-1, 1]. */
export interface Similar {
  entity: Entity;
  cosine: number;
}

export type Resolution =
  | {
      kind: 'existing';
      entityId: string;
      via: 'exact' | 'embedding' | 'neighbourhood';
      alias: string | null;
    }
  | { kind: 'new' };

export interface ResolveInput {
  mentions: Mention[];
  /** The tenant's standing entities with one of the mentions' normalised names. */
  exact: Entity[];
  /** Per mention (same index), existing entities near it by embedding. */
  similar: Similar[][];
  /** Normalised names of each existing entity's neighbours (entity.repository neighbourNames). */
  neighbours: Map<string, string[]>;
  /** The cosine from which a name may be the same entity (MEMORY_ENTITY_SIMILARITY). */
  threshold: number;
}

export interface Merge {
  fromId: string;
  intoId: string;
  reason: string;
}

/** Scores this far above the threshold need no neighbourhood to confirm them. */
export const CONFIRMED_MARGIN = 0.07;

const GENERIC_TYPES = new Set(['', 'thing', 'concept', 'entity', 'unknown', 'other']);

/** Whether two types may name one entity: equal, or one of them says nothing. */
export function typesCompatible(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  return x === y || GENERIC_TYPES.has(x) || GENERIC_TYPES.has(y);
}

/** Whether one name is the other with words added ("acme bank" and "acme"). */
export function addsWords(a: string, b: string): boolean {
  const x = new Set(a.split(' '));
  const y = new Set(b.split(' '));
  const within = (p: Set<string>, q: Set<string>) => [...p].every((w) => q.has(w));
  return x.size !== y.size && (within(x, y) || within(y, x));
}

/**
 * Whether two normalised names could name one thing at all: the same numbers, and the same
 * letters once spaces go ("ibm" and "i b m"), one inside the other, a shared word of 3+ letters,
 * or close spelling (letter-trigram overlap). Vectors alone never join names that share nothing:
 * names said in one sentence get close vectors from their shared context ("Ana Ruiz" and "Kite
 * Meadow Farms"), and names that differ in a number are two things ("Windows 10", "Windows 11").
 */
export function namesAlike(a: string, b: string): boolean {
  const x = a.replace(/ /g, '');
  const y = b.replace(/ /g, '');
  if (x === '' || y === '') return false;
  if (numbersIn(a) !== numbersIn(b)) return false;
  if (x.includes(y) || y.includes(x)) return true;
  const words = new Set(a.split(' ').filter((w) => w.length >= 3));
  if (b.split(' ').some((w) => words.has(w))) return true;
  const grams = (t: string) =>
    new Set([...Array(Math.max(0, t.length - 2)).keys()].map((i) => t.slice(i, i + 3)));
  const gx = grams(x);
  const gy = grams(y);
  const shared = [...gx].filter((g) => gy.has(g)).length;
  return shared / (gx.size + gy.size - shared || 1) >= NAME_TRIGRAM_OVERLAP;
}

/** The numbers of a name, in order ("zorg1 ltd": "1"). */
const numbersIn = (name: string) => (name.match(/\p{N}+/gu) ?? []).join(' ');

/** The letter-trigram Jaccard from which two names count as alike ("Globex" ~ "Globecs"). */
const NAME_TRIGRAM_OVERLAP = 0.4;

/**
 * Resolves each mention to an existing entity or a new one, and finds existing entities that
 * this episode shows to be one (a mention that is one entity by name and another by a
 * confirmed embedding match): those are merged, the younger into the older.
 */
export function resolveMentions(input: ResolveInput): {
  resolutions: Resolution[];
  merges: Merge[];
} {
  const byNorm = new Map<string, Entity>();
  // The oldest standing entity of a name wins (entitiesByNormNames orders by createdAt).
  for (const e of input.exact) if (!byNorm.has(e.normName)) byNorm.set(e.normName, e);
  const coMentioned = new Set(input.mentions.map((m) => m.normName));
  const merges: Merge[] = [];
  const merged = new Set<string>();

  const confirmed = (m: Mention, s: Similar): 'embedding' | 'neighbourhood' | null => {
    if (s.entity.mergedInto !== null || s.cosine < input.threshold) return null;
    if (!typesCompatible(m.type, s.entity.type)) return null;
    if (!namesAlike(m.normName, s.entity.normName)) return null;
    const borderline =
      s.cosine < input.threshold + CONFIRMED_MARGIN || addsWords(m.normName, s.entity.normName);
    if (!borderline) return 'embedding';
    const theirs = input.neighbours.get(s.entity.id) ?? [];
    const shared = theirs.some((n) => n !== m.normName && coMentioned.has(n));
    return shared ? 'neighbourhood' : null;
  };

  const resolutions = input.mentions.map((m, i): Resolution => {
    const exact = byNorm.get(m.normName);
    const near = [...(input.similar[i] ?? [])]
      .filter((s) => s.entity.id !== exact?.id && s.entity.normName !== m.normName)
      .sort((a, b) => b.cosine - a.cosine || a.entity.id.localeCompare(b.entity.id));
    if (exact) {
      for (const s of near) {
        const via = confirmed(m, s);
        if (!via || merged.has(s.entity.id)) continue;
        const [older, younger] =
          exact.createdAt <= s.entity.createdAt ? [exact, s.entity] : [s.entity, exact];
        if (merged.has(older.id)) continue;
        merged.add(younger.id);
        merges.push({
          fromId: younger.id,
          intoId: older.id,
          reason: `ingestion: "${m.name}" is "${exact.name}" by name and "${s.entity.name}" by ${via} (cosine ${s.cosine.toFixed(2)})`,
        });
      }
      return { kind: 'existing', entityId: exact.id, via: 'exact', alias: aliasOf(m, exact) };
    }
    for (const s of near) {
      const via = confirmed(m, s);
      if (via) return { kind: 'existing', entityId: s.entity.id, via, alias: aliasOf(m, s.entity) };
    }
    return { kind: 'new' };
  });
  // A mention resolved to an entity merged away in this episode points at its survivor.
  const survivor = new Map(merges.map((x) => [x.fromId, x.intoId]));
  return {
    resolutions: resolutions.map((r) =>
      r.kind === 'existing' && survivor.has(r.entityId)
        ? { ...r, entityId: survivor.get(r.entityId)! }
        : r,
    ),
    merges,
  };
}

/** The mention's name when the entity is not known by it yet. */
function aliasOf(m: Mention, e: Entity): string | null {
  return m.name === e.name || e.aliases.includes(m.name) ? null : m.name;
}
