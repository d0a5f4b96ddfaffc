import {
  checkpointsByRunIds,
  type CheckpointSummary,
} from '../../../graph/checkpoint.repository.js';
import type { Graph } from '../../../graph/graph.js';
import { groupedBy, type Loaders } from '../../loaders/loaders.js';

/**
 * Each run's newest `first` checkpoints, batched per request in the request's own loader cache
 * (one loader per distinct `first`), never shared across requests or tenants.
 */
export function runCheckpointsLoader(
  ctx: { graph: Graph; tenantId: string; loaders: Loaders },
  first: number,
) {
  const { graph, tenantId, loaders } = ctx;
  return loaders.keyed('run.checkpoints', first, () =>
    groupedBy(
      (ids) => graph.readAutoCommit((tx) => checkpointsByRunIds(tx, tenantId, ids, first)),
      (c: CheckpointSummary) => c.runId,
    ),
  );
}
