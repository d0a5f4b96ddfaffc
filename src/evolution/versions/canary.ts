import {
  candidatesToDecide,
  versionScores,
  versionsOfAgents,
} from '../../../graph/agent-version.repository.js';
import { VersionStatus, type AgentVersion } from '../../domain/agent-version.js';
import { DEFAULT_EVOLUTION, type CanaryConfig } from '../config.js';
import type { EvolutionContext, EvolutionPass } from '../loop.js';
import { promote, rollBack } from './lifecycle.js';
import { decideCanary, type CanaryVerdict } from './stats.js';

/** Candidates decided per tick at most; the rest wait for the next tick. */
const PAGE = 50;

/**
 * The canary decision (issue 12): for each CANDIDATE version, the effective scores of its runs
 * against those of the agent's LIVE version's runs since the candidate was created; a one-sided
 * Welch t-test (stats.ts) promotes it when better, rolls it back when worse, and otherwise it
 * keeps its share of the runs. The moves are conditional (`status = 'CANDIDATE'` under the
 * version's lock), so two processes cannot both decide.
 */
export const canaryPass: EvolutionPass = {
  name: 'canary',
  async run(ctx, signal) {
    const config = ctx.config?.canary ?? DEFAULT_EVOLUTION.canary;
    const candidates = await ctx.uow.read((tx) => candidatesToDecide(tx, ctx.tenantIds, PAGE));
    for (const candidate of candidates) {
      if (signal.aborted) return;
      try {
        await decideOne(ctx, candidate, config);
      } catch (err) {
        ctx.logger.warn(
          { err, versionId: candidate.id },
          'a canary decision failed; retried next tick',
        );
      }
    }
  },
};

/** Decides one candidate; returns what the test said (null when its agent is gone: rolled back). */
export async function decideOne(
  ctx: Pick<EvolutionContext, 'uow'>,
  candidate: AgentVersion,
  config: CanaryConfig,
): Promise<CanaryVerdict | null> {
  const { tenantId } = candidate;
  const evidence = await ctx.uow.read(async (tx) => {
    const [live] = await versionsOfAgents(tx, tenantId, [candidate.agentId], [VersionStatus.LIVE]);
    if (!live) return null;
    return {
      candidate: await versionScores(tx, tenantId, candidate.id, null),
      live: await versionScores(tx, tenantId, live.id, candidate.createdAt),
    };
  });
  if (!evidence) {
    // No live version: the agent was deleted. The candidate can never run; it stops waiting.
    const reason = 'canary: its agent no longer exists';
    await ctx.uow.run((tx, emit) => rollBack(tx, emit, candidate, reason, 'PLATFORM'));
    return null;
  }
  const verdict = decideCanary(evidence.candidate, evidence.live, config);
  if (verdict.decision === 'WAIT') return verdict;
  await ctx.uow.run(async (tx, emit) => {
    const reason = `canary: ${verdict.reason}`;
    if (verdict.decision === 'PROMOTE') await promote(tx, emit, candidate, reason, 'PLATFORM');
    else await rollBack(tx, emit, candidate, reason, 'PLATFORM');
  });
  return verdict;
}
