/**
 * What an episode names (issue 11): the known entities near its text, shown to the extraction
 * so it can reuse their names, and the extraction's names as mentions for resolution.
 */
import * as entities from '../../../graph/memory/entity.repository.js';
import { vectorSearch } from '../../../graph/memory/vector.repository.js';
import type { Entity } from '../../domain/memory.js';
import { normaliseName } from '../normalise.js';
import type { Extraction } from './extract.js';
import type { IngestDeps } from './ingest.js';
import type { Mention } from './resolve.js';

/** Known entities shown to the extraction: at most this many. */
const MAX_KNOWN = 50;

/**
 * The entities near an episode: the tenant's entities whose normalised names occur in its
 * text, and (with an embedder) those nearest to the text, so the model can reuse their names.
 */
export async function neighbourhood(
  deps: Pick<IngestDeps, 'uow' | 'embedder'>,
  tenantId: string,
  text: string,
  signal?: AbortSignal,
): Promise<Entity[]> {
  const vector = deps.embedder ? (await deps.embedder.embed([text], signal))[0]! : null;
  return deps.uow.read(async (tx) => {
    const named = await entities.entitiesByNormNames(tx, tenantId, nameGrams(text));
    const near =
      vector && deps.embedder
        ? await vectorSearch(tx, tenantId, 'Entity', deps.embedder, vector, 10)
        : [];
    const nearIds = near.map((h) => h.id).filter((id) => !named.some((e) => e.id === id));
    const close = (await entities.entitiesByIds(tx, tenantId, nearIds)).filter(
      (e) => e.mergedInto === null,
    );
    return [...named, ...close].slice(0, MAX_KNOWN);
  });
}

/** Every run of 1 to 5 words of the normalised text: the names it could contain. */
export function nameGrams(text: string, max = 4000): string[] {
  const words = normaliseName(text).split(' ').filter(Boolean);
  const grams = new Set<string>();
  for (let i = 0; i < words.length && grams.size < max; i++) {
    for (let n = 1; n <= 5 && i + n <= words.length; n++) {
      grams.add(words.slice(i, i + n).join(' '));
    }
  }
  return [...grams];
}

/** The extraction's entities, one per normalised name, plus any a fact names but none lists. */
export function mentionsOf(x: Extraction): Mention[] {
  const out = new Map<string, Mention>();
  const add = (name: string, type: string, summary: string) => {
    const normName = normaliseName(name);
    if (!normName) return;
    const had = out.get(normName);
    if (!had)
      out.set(normName, { name: name.trim(), normName, type: type.trim() || 'Thing', summary });
    else if (summary.length > had.summary.length) had.summary = summary;
  };
  for (const e of x.entities) add(e.name, e.type, e.summary);
  for (const f of x.facts) {
    add(f.subject, 'Thing', '');
    if (f.object) add(f.object, 'Thing', '');
  }
  return [...out.values()];
}
