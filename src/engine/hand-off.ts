/**
 * Hand-off: a step's end that makes a dependant READY claims, in its own transaction, the head
 * of the queue for the slot it frees: in a chain, the dependant itself. A chain of steps then
 * costs one commit per step (the end that also starts the next one) where it cost two (the
 * end, then a claim once the READY event woke a scheduler), and no READY event sends every
 * scheduler racing to claim the one step.
 *
 * Contract: it never jumps the queue. It takes the queue's head itself (no spread: the oldest
 * step of the highest priority in the scheduler's tenants), as the claim of a scheduler with
 * one free slot would; with older work waiting, that work is what starts, and the dependants
 * go READY and are claimed in queue order like any step. Only an end committed alone hands
 * off: ends grouped in one transaction (group-commit.ts) must not read each other's writes,
 * and two hand-offs counting an agent's load would. Never under a global limit (its shared
 * lock would be taken inside a step's end). The claim is the scheduler's own (claim.ts:
 * claimIn, limit 1): the same assignment, per-agent limit, lease, Run record and STARTED
 * event; a step no agent can take is given back READY as a claim would. The scheduler runs
 * what it returns in the freed slot, or releases it when stopping.
 */
import type { Tx } from '../../graph/cypher.js';
import type { Task } from '../domain/task.js';
import type { Emit } from '../services/unit-of-work.js';
import { claimIn, type ClaimLimits, type StartedStep } from './claim.js';
import type { EngineContext } from './context.js';

/** Whether a scheduler may take a hand-off under these limits. */
export const mayHandOff = (limits: ClaimLimits) => limits.globalLimit >= 10_000;

/**
 * Claims the queue's head for the freed slot when this end made steps `ready`; else nothing.
 * It used to read the queue's head first, to hand off only when nothing besides them waited,
 * and then claim one of them by id: a statement more in every step's end.
 */
export async function handOffIn(
  tx: Tx,
  emit: Emit,
  ctx: Pick<EngineContext, 'workerId' | 'tenantIds'>,
  limits: ClaimLimits,
  ready: Task[],
): Promise<StartedStep[]> {
  if (ready.length === 0) return [];
  return claimIn(tx, emit, ctx, 1, limits, undefined, 1);
}
