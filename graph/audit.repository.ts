import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditOutcome } from '../src/domain/auth.js';
import type { Page, PageRequest } from '../src/domain/page.js';
import type { Tx } from './cypher.js';
import { toAuditEvent } from './mappers.js';
import { readPage } from './page.js';

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'createdAt'>;

/** An audit event keeps at most this many target ids, each at most ID_LENGTH characters. */
export const MAX_TARGET_IDS = 100;
const ID_LENGTH = 64;

/**
 * Writes one audit event. Target ids are capped: a hostile request naming 50,000 ids (or one
 * 10 KB "id") must not turn the audit trail into a way to fill the database.
 */
export async function writeAuditEvent(tx: Tx, event: NewAuditEvent): Promise<void> {
  const targetIds = event.targetIds.filter((id) => id.length <= ID_LENGTH).slice(0, MAX_TARGET_IDS);
  await tx.run({
    cypher: `
      CREATE (:AuditEvent {id: $id, tenantId: $tenantId, operation: $operation, actor: $actor,
                           actorKeyId: $actorKeyId, targetIds: $targetIds, outcome: $outcome,
                           code: $code, createdAt: datetime()})`,
    params: { id: randomUUID(), ...event, targetIds },
  });
}

export interface AuditFilter {
  operation?: string;
  outcome?: AuditOutcome[];
  actorKeyId?: string;
  targetId?: string;
  since?: string;
  until?: string;
}

/** The tenant's audit trail, newest first. */
export function listAuditEvents(
  tx: Tx,
  tenantId: string,
  filter: AuditFilter,
  page: PageRequest,
): Promise<Page<AuditEvent>> {
  const conditions: string[] = [];
  if (filter.operation) conditions.push('n.operation = $operation');
  if (filter.outcome?.length) conditions.push('n.outcome IN $outcome');
  if (filter.actorKeyId) conditions.push('n.actorKeyId = $actorKeyId');
  if (filter.targetId) conditions.push('$targetId IN n.targetIds');
  if (filter.since) conditions.push('n.createdAt >= datetime($since)');
  if (filter.until) conditions.push('n.createdAt < datetime($until)');
  return readPage(
    tx,
    {
      label: 'AuditEvent',
      conditions,
      params: { tenantId, ...filter },
      sort: { property: 'createdAt', descending: true },
      page,
    },
    toAuditEvent,
  );
}
