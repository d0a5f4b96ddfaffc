/**
 * Hand-off: a step's end that makes a dependant READY claims, in its own transaction, the head
 * of the queue for the slot it frees: in a chain, the dependant itself. A chain of steps then
 * costs one commit per step (the end that also starts the next one) where it cost two (the
 * end, then a claim once the READY event woke a scheduler), and no READY event sends every
 * scheduler racing to claim the one step.
 *
 * Contract: it never jumps the queue. It takes the queue's head itself (no spread: of the highest
 * priority, each tenant's oldest step, dealt by turns between tenants), as the claim of a scheduler
 * with one free slot would; with older work waiting, that work is what starts, and the dependants
 * go READY and are claimed in queue order like any step. Ends grouped in one transaction
 * (group-commit.ts) must not read each other's writes, and two hand-offs counting an agent's load
 * would: the ends of a group share one claim instead (`Group.share`), made once all the group's
 * ends are written, for the slots they free in every scheduler of the process (one lease owner per
 * slot), whether or not they made steps READY (under load the queue holds older work: the claims
 * the schedulers would make next, without transactions of their own). Never under a global limit
 * (its shared lock would be taken inside a step's end). The claim is the scheduler's own (claim.ts:
 * claimIn): the same assignment, per-agent limit, lease, Run record and STARTED event; a step no
 * agent can take is given back READY as a claim would. The scheduler runs what it returns in the
 * freed slot, or releases it when stopping.
 */
import type { Tx } from '../../graph/cypher.js';
import type { Task } from '../domain/task.js';
import type { Emit } from '../services/unit-of-work.js';
import { claimIn, type ClaimLimits, type StartedStep } from './claim.js';
import type { EngineContext } from './context.js';
import type { Group } from './group-commit.js';

/** Whether a scheduler may take a hand-off under these limits. */
export const mayHandOff = (limits: ClaimLimits) => limits.globalLimit >= 10_000;

/** What an end's hand-off started in its slot, and every step its transaction started. */
export interface HandedOff {
  mine: StartedStep[];
  started: ReadonlySet<string>;
}

/**
 * The hand-off of one end, given the steps its end made `ready`. Alone, it claims the queue's
 * head for the freed slot when the end made steps READY, else nothing (it used to read the
 * queue's head first, to hand off only when nothing besides them waited: a statement more in
 * every end). In a group, the group's ends share one claim.
 */
export async function handOffIn(
  tx: Tx,
  emit: Emit,
  ctx: Pick<EngineContext, 'workerId' | 'tenantIds' | 'queue'>,
  limits: ClaimLimits,
  group: Group | null,
  ready: Task[],
): Promise<HandedOff> {
  if (group) {
    // One claim for the slots the group's ends free, in every scheduler of this process that
    // serves the same tenants under the same limits; each end runs the step its slot got.
    const { globalLimit, perAgentLimit, leaseMs, pollMs } = limits;
    const key = JSON.stringify([ctx.tenantIds, globalLimit, perAgentLimit, leaseMs, pollMs]);
    const { mine, all } = await group.share(key, ctx.workerId, async (tx, emit, slots) => {
      const claimed = await claimIn(tx, emit, ctx, slots, limits, undefined, 1);
      return slots.map((worker) => {
        const i = claimed.findIndex((s) => s.workerId === worker);
        return i < 0 ? undefined : claimed.splice(i, 1)[0];
      });
    });
    return { mine: mine ? [mine] : [], started: new Set(all.map((s) => s.task.id)) };
  }
  if (ready.length === 0) return { mine: [], started: new Set() };
  const mine = await claimIn(tx, emit, ctx, [ctx.workerId], limits, undefined, 1);
  return { mine, started: new Set(mine.map((s) => s.task.id)) };
}
