import type { Tx } from '../../graph/cypher.js';
import * as episodes from '../../graph/memory/episode.repository.js';
import * as entities from '../../graph/memory/entity.repository.js';
import * as facts from '../../graph/memory/fact.repository.js';
import { byId, groupedBy } from '../loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/** Memory's loaders for one request and tenant; see createLoaders. */
export function createMemoryLoaders(read: Read, tenantId: string) {
  return {
    entity: byId('Entity', (ids) => read((tx) => entities.entitiesByIds(tx, tenantId, ids))),
    fact: byId('Fact', (ids) => read((tx) => facts.factsByIds(tx, tenantId, ids))),
    episode: byId('Episode', (ids) => read((tx) => episodes.episodesByIds(tx, tenantId, ids))),
    factEpisodes: groupedBy(
      (ids) => read((tx) => episodes.episodesOfFacts(tx, tenantId, ids)),
      (r) => r.factId,
    ),
    episodeEntities: groupedBy(
      (ids) => read((tx) => entities.entitiesOfEpisodes(tx, tenantId, ids)),
      (r) => r.episodeId,
    ),
  };
}
