import DataLoader from 'dataloader';
import { spawnOrigins } from '../../../graph/spawning.repository.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';

export type SpawnOriginView =
  Awaited<ReturnType<typeof spawnOrigins>> extends Map<string, infer V> ? V : never;

/** A per-request loader of Agent.spawnedBy: one query for every agent of a page. */
export function spawnOriginLoader(uow: UnitOfWork, tenantId: string) {
  return new DataLoader<string, (SpawnOriginView & { agent: SpawnOriginView['chief'] }) | null>(
    async (ids) => {
      const found = await uow.read((tx) => spawnOrigins(tx, tenantId, ids));
      return ids.map((id) => {
        const origin = found.get(id);
        return origin ? { ...origin, agent: origin.chief } : null;
      });
    },
  );
}
