import DataLoader from 'dataloader';
import {
  answersByRunIds,
  consensusSpecsByTaskIds,
  decisionsByRunIds,
} from '../../../graph/consensus.repository.js';
import type { Graph } from '../../../graph/graph.js';
import type { Answer, ConsensusSpec, Decision } from '../../domain/consensus.js';
import { groupedBy, type Loaders } from '../../loaders/loaders.js';

/**
 * Per-request loaders for collective decisions (issue 12), kept in the request's own loader
 * cache (`loaders.keyed`), so they are never shared across requests or tenants.
 */
export function consensusLoaders(ctx: { graph: Graph; tenantId: string; loaders: Loaders }) {
  const { graph, tenantId, loaders } = ctx;
  return {
    /** Each task's consensus spec, null for a task without one. */
    spec: loaders.keyed(
      'consensus.spec',
      null,
      () =>
        new DataLoader<string, ConsensusSpec | null>(async (ids) => {
          const specs = await graph.readAutoCommit((tx) =>
            consensusSpecsByTaskIds(tx, tenantId, ids),
          );
          return ids.map((id) => specs.get(id) ?? null);
        }),
    ),
    /** Each run's decision, null for a run that decided nothing. */
    decision: loaders.keyed(
      'consensus.decision',
      null,
      () =>
        new DataLoader<string, Decision | null>(async (ids) => {
          const found = await graph.readAutoCommit((tx) => decisionsByRunIds(tx, tenantId, ids));
          return ids.map((id) => found.find((d) => d.runId === id) ?? null);
        }),
    ),
    /** Each run's answers, in voter order. */
    answers: loaders.keyed('consensus.answers', null, () =>
      groupedBy(
        (ids) => graph.readAutoCommit((tx) => answersByRunIds(tx, tenantId, ids)),
        (a: Answer) => a.runId,
      ),
    ),
  };
}
