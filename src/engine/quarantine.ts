/**
 * Quarantine on write: a row the mappers cannot read (MalformedNodeError) used to roll back the
 * whole claim, for every tenant, on every poll (issue 9). Now that node is quarantined in a
 * transaction of its own, logged and announced once, and the work runs again without it.
 */
import { writeAuditEvent } from '../../graph/audit.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { MalformedNodeError } from '../../graph/mappers.js';
import { quarantineNode } from '../../graph/quarantine.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import { AuditOutcome } from '../domain/auth.js';
import type { Emit } from '../services/unit-of-work.js';
import type { EngineContext } from './context.js';

/** Bad rows one transaction may set aside before it gives up (and the tick logs it). */
const MAX_QUARANTINES_PER_WRITE = 20;

type Writer = Pick<EngineContext, 'uow' | 'logger' | 'workerId'>;

/** Runs work in one transaction, quarantining each node the mappers refuse and trying again. */
export async function writeQuarantining<T>(
  ctx: Writer,
  work: (tx: Tx, emit: Emit) => Promise<T>,
): Promise<T> {
  for (let quarantined = 0; ; quarantined++) {
    try {
      return await ctx.uow.run(work);
    } catch (err) {
      if (!(err instanceof MalformedNodeError) || quarantined >= MAX_QUARANTINES_PER_WRITE)
        throw err;
      if (!(await quarantine(ctx, err))) throw err;
    }
  }
}

/** Quarantines the node the error names; logs and announces it the first time. */
async function quarantine(ctx: Writer, err: MalformedNodeError): Promise<boolean> {
  if (!err.elementId || (err.label !== 'Task' && err.label !== 'Agent')) return false;
  const { label, elementId, message } = err;
  const done = await ctx.uow.run(async (tx, emit) => {
    const node = await quarantineNode(tx, label, elementId, message);
    if (node?.first) {
      // The tenant's admins read it in auditEvents (operation engine.quarantine).
      if (node.tenantId)
        await writeAuditEvent(tx, {
          tenantId: node.tenantId,
          operation: 'engine.quarantine',
          actor: ctx.workerId,
          actorKeyId: null,
          targetIds: node.id ? [node.id] : [],
          outcome: AuditOutcome.FAILURE,
          code: `MALFORMED_NODE: ${message}`.slice(0, 1_000),
        });
      emit({
        topic: TOPICS.nodeQuarantined,
        payload: { tenantId: node.tenantId, label, id: node.id, reason: message },
      });
    }
    return node;
  });
  if (done?.first) {
    ctx.logger.error(
      { tenantId: done.tenantId, label, id: done.id, worker: ctx.workerId, reason: message },
      'quarantined a node the engine cannot read; it is no longer claimed',
    );
  }
  return done !== null;
}
