import type { Tx } from '../../graph/cypher.js';
import { tasksHoldingCalls } from '../../graph/organisation-import.repository.js';
import type { ExistingNode } from '../../graph/organisation.repository.js';
import { QUEUED_STATUSES } from '../domain/backlog.js';
import type { OrganisationDocument } from '../domain/organisation-export.js';
import { FINISHED_STATUSES, TaskStatus } from '../domain/task.js';

/*
 * What an import adds to the tenant's queued steps (TENANT_MAX_QUEUED_STEPS), counted before
 * its writes so a refusal writes nothing.
 */

/**
 * The queued steps the document (ids as stored) adds, net. Steps AWAITING_INPUT come back READY
 * (settleImportedTasks) unless a call they wait for is in the graph: read here for the ones
 * that exist already (a new one has none).
 */
export async function queuedStepsAdded(
  tx: Tx,
  tenantId: string,
  doc: OrganisationDocument,
  stored: ReadonlyMap<string, ExistingNode>,
): Promise<number> {
  const waiting = doc.nodes.filter((n) => isWaitingStep(n) && stored.has(n.id));
  const held = await tasksHoldingCalls(
    tx,
    tenantId,
    waiting.map((n) => n.id),
  );
  return queuedAdded(doc, stored, held);
}

const isWaitingStep = (n: OrganisationDocument['nodes'][number]) =>
  n.label === 'Task' &&
  n.properties.orchestrated === true &&
  n.properties.status === TaskStatus.AWAITING_INPUT;

/**
 * The queued steps (orchestrated, PENDING or READY) the document adds to the tenant's, net: a
 * task queued already is counted once (it is in the tenant's count), one it takes out of the
 * queue counts less, and a finished one, kept as it is, neither. A step AWAITING_INPUT counts
 * as queued unless it is `held` (settleImportedTasks brings the others back READY).
 */
function queuedAdded(
  doc: OrganisationDocument,
  stored: ReadonlyMap<string, ExistingNode>,
  held: ReadonlySet<string>,
) {
  const queued = (orchestrated: unknown, status: unknown) =>
    orchestrated === true && QUEUED_STATUSES.includes(String(status));
  let adding = 0;
  for (const n of doc.nodes) {
    if (n.label !== 'Task') continue;
    const before = stored.get(n.id);
    if (before && FINISHED_STATUSES.includes(before.status as TaskStatus)) continue;
    const was = before ? queued(before.orchestrated, before.status) : false;
    const revived = isWaitingStep(n) && !held.has(n.id);
    const will = revived || queued(n.properties.orchestrated, n.properties.status);
    adding += Number(will) - Number(was);
  }
  return adding;
}
