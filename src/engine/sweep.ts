/**
 * The sweep and settling: put back the steps of workers that died (expired leases), settle
 * parents whose steps all ended (or failed fast), and cancel steps orphaned under an ended
 * parent. Settling also runs right after each step's end (Scheduler.afterEnd).
 */
import type { Tx } from '../../graph/cypher.js';
import { readyOutsideClaimOrder } from '../../graph/claim.repository.js';
import { changeStatuses } from '../../graph/promotion.repository.js';
import { expireLeases } from '../../graph/lease.repository.js';
import {
  cancelSubtrees,
  orphanedSteps,
  runningParent,
  settleableParents,
} from '../../graph/settlement.repository.js';
import { parentOf } from '../../graph/task.repository.js';
import { failFastCancelError, TaskStatus, type Task } from '../domain/task.js';
import { leaseExpired } from '../domain/lease.js';
import { publishTasks } from '../services/task-events.js';
import type { Emit } from '../services/unit-of-work.js';
import type { EngineContext } from './context.js';
import { settlement } from './decisions.js';
import { evaluateRootTask } from '../evolution/evaluate/record.js';
import { countLeaseExpiries } from './engine-metrics.js';

/**
 * One sweep: expired leases (and their parents), parents due to settle, orphaned steps, and
 * READY rows the claim's order cannot see (each is quarantined as it is read: quarantine.ts).
 */
export async function sweep(ctx: EngineContext): Promise<void> {
  const expired = await ctx.write(async (tx, emit) => {
    const expired = await expireLeases(tx, ctx.tenantIds);
    const tasks = expired.map((e) => e.task);
    await publishTasks(tx, emit, tasks, 'LEASE_EXPIRED');
    for (const t of tasks) {
      // A root whose last attempt's worker died ends FAILED here: judged like any ended root.
      if (t.status === TaskStatus.FAILED) await evaluateRootTask(tx, emit, t.id);
      await settleUpwards(tx, emit, t);
    }
    return expired;
  });
  countLeaseExpiries(expired.length);
  for (const { task, worker, runId, agentId } of expired) {
    ctx.logger.warn(
      { taskId: task.id, runId, agentId, worker, tenantId: task.tenantId, sweeper: ctx.workerId },
      `${leaseExpired(worker)}; the step is ${task.status === TaskStatus.FAILED ? `FAILED (attempt ${task.attempts} of ${task.maxAttempts})` : 'READY again'}`,
    );
  }
  await ctx.write(async (tx, emit) => {
    for (const id of await settleableParents(tx, 100, ctx.tenantIds)) await settle(tx, emit, id);
  });
  await cancelOrphans(ctx);
  await ctx.write((tx) => readyOutsideClaimOrder(tx, 20, ctx.tenantIds));
}

/**
 * Cancels steps left waiting under a parent that ended (e.g. a plan committed after its root
 * was cancelled): nothing would ever run them, and every poll would scan them again.
 */
async function cancelOrphans(ctx: EngineContext): Promise<void> {
  const cancelled = await ctx.write(async (tx, emit) => {
    const orphans = await orphanedSteps(tx, 200, ctx.tenantIds);
    const changed = await changeStatuses(
      tx,
      orphans.map((o) => ({
        id: o.id,
        from: o.status,
        to: TaskStatus.CANCELLED,
        error: `cancelled: its parent is ${o.parentStatus}`,
      })),
    );
    await publishTasks(tx, emit, changed, 'STATUS_CHANGED');
    return changed;
  });
  if (cancelled.length > 0) {
    ctx.logger.info(
      { worker: ctx.workerId, taskIds: cancelled.map((t) => t.id) },
      `cancelled ${cancelled.length} step(s) waiting under a parent that had ended`,
    );
  }
}

/** Settles the parent of a step that ended, and its parent in turn. */
export async function settleUpwards(tx: Tx, emit: Emit, task: Task): Promise<void> {
  const parentId = await parentOf(tx, task.tenantId, task.id);
  if (parentId) await settle(tx, emit, parentId);
}

/** Ends a running parent when its steps decide it (decisions.ts: settlement), cancelling what is open. */
export async function settle(tx: Tx, emit: Emit, parentId: string): Promise<void> {
  const state = await runningParent(tx, parentId);
  if (!state) return;
  const decision = settlement(state);
  if (!decision) return;
  // runningParent locked the children before reading them: what it saw open is still open
  // (or was claimed since, and is cancelled with its run all the same).
  const cancelled = await cancelSubtrees(
    tx,
    decision.cancel,
    failFastCancelError(decision.error ?? ''),
  );
  const [parent] = await changeStatuses(tx, [
    {
      id: parentId,
      from: TaskStatus.IN_PROGRESS,
      to: decision.to,
      result: decision.result ?? null,
      error: decision.error ?? null,
    },
  ]);
  await publishTasks(tx, emit, [...cancelled, ...(parent ? [parent] : [])], 'STATUS_CHANGED');
  // A root that settled is judged on its steps' outcomes (issue 12); a step parent is not.
  if (parent) await evaluateRootTask(tx, emit, parent.id);
  if (parent) await settleUpwards(tx, emit, parent);
}
