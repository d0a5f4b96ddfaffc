/**
 * Hand-off: a step's end claims, in its own transaction, a dependant it made READY, for the
 * slot it frees. A chain of steps then costs one commit per step (the end that also starts the
 * next one) where it cost two (the end, then a claim once the READY event woke a scheduler),
 * and no READY event sends every scheduler racing to claim the one step.
 *
 * Contract: it never jumps the queue. It hands off only when nothing else is claimable in the
 * scheduler's tenants besides the steps this end promoted, so at saturation, or with another
 * tenant's work waiting, the dependants go READY and are claimed in queue order like any step.
 * Only an end committed alone hands off: ends grouped in one transaction (group-commit.ts) must
 * not read each other's writes, and two hand-offs counting an agent's load would. Never under a
 * global limit (its shared lock would be taken inside a step's end). The claim is the
 * scheduler's own (claim.ts: claimIn, limit 1): the same assignment, per-agent limit, lease,
 * Run record and STARTED event; a step no agent can take is given back READY as a claim would.
 * The scheduler runs what it returns in the freed slot, or releases it when stopping.
 */
import type { Tx } from '../../graph/cypher.js';
import { anyClaimable } from '../../graph/claim.repository.js';
import type { Task } from '../domain/task.js';
import type { Emit } from '../services/unit-of-work.js';
import { claimIn, type ClaimLimits, type StartedStep } from './claim.js';
import type { EngineContext } from './context.js';

/** Whether a scheduler may take a hand-off under these limits. */
export const mayHandOff = (limits: ClaimLimits) => limits.globalLimit >= 10_000;

/** Claims one of `ready` (just made READY by this end) when nothing else waits; else none. */
export async function handOffIn(
  tx: Tx,
  emit: Emit,
  ctx: Pick<EngineContext, 'workerId' | 'tenantIds'>,
  limits: ClaimLimits,
  ready: Task[],
): Promise<StartedStep[]> {
  if (ready.length === 0) return [];
  if (
    await anyClaimable(
      tx,
      ctx.tenantIds,
      ready.map((t) => t.id),
    )
  )
    return [];
  const steps = ready.map((t) => ({ tenantId: t.tenantId, taskId: t.id }));
  return claimIn(tx, emit, ctx, 1, limits, steps);
}
