import type { Tx } from '../../graph/cypher.js';
import * as episodes from '../../graph/memory/episode.repository.js';
import * as entities from '../../graph/memory/entity.repository.js';
import * as facts from '../../graph/memory/fact.repository.js';
import type { MemoryView } from '../domain/memory-search.js';
import { byId, groupedBy } from '../loaders/loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/**
 * Memory's loaders for one request and tenant; see createLoaders. They load only what `view`
 * may see: another node by id is NOT_FOUND, as an unknown id is.
 */
export function createMemoryLoaders(read: Read, tenantId: string, view: MemoryView) {
  return {
    entity: byId('Entity', (ids) => read((tx) => entities.entitiesByIds(tx, tenantId, ids, view))),
    fact: byId('Fact', (ids) => read((tx) => facts.factsByIds(tx, tenantId, ids, view))),
    episode: byId('Episode', (ids) =>
      read((tx) => episodes.episodesByIds(tx, tenantId, ids, view)),
    ),
    factEpisodes: groupedBy(
      (ids) => read((tx) => episodes.episodesOfFacts(tx, tenantId, ids, view)),
      (r) => r.factId,
    ),
    episodeEntities: groupedBy(
      (ids) => read((tx) => entities.entitiesOfEpisodes(tx, tenantId, ids, view)),
      (r) => r.episodeId,
    ),
  };
}
