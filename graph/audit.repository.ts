import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import type { AuditEvent, AuditOutcome } from '../src/domain/auth.js';
import type { Page, PageRequest } from '../src/domain/page.js';
import type { Tx } from './cypher.js';
import { lockAndBump } from './locks.js';
import { toAuditEvent } from './mappers.js';
import { readPage } from './page.js';

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'createdAt' | 'count' | 'address'>;

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

/** A refused authentication, counted into its address's event of the minute. */
export interface Refusal extends NewAuditEvent {
  address: string | null;
}

/**
 * Counts a refused authentication into one event per (tenant, operation, address, key, code)
 * and minute, instead of a node per attempt: 400 bad keys from one address were 400 nodes
 * (issue 9). The lookup is a seek on (tenantId, createdAt) within the minute. Two first
 * attempts of a minute in parallel may make two events; their counts still add up.
 */
export async function countRefusal(tx: Tx, refusal: Refusal, now = Date.now()): Promise<void> {
  const windowStart = new Date(now - (now % 60_000)).toISOString();
  const windowKey = [
    refusal.operation,
    refusal.address ?? '',
    refusal.actorKeyId ?? '',
    refusal.code ?? '',
    windowStart,
  ].join('|');
  // The count is read under the node's write lock, so concurrent refusals all add up.
  const counted = await tx.run({
    cypher: `
      MATCH (e:AuditEvent {tenantId: $tenantId})
      WHERE e.createdAt >= datetime($windowStart) AND e.windowKey = $windowKey
      WITH e ORDER BY e.createdAt LIMIT 1
      ${lockAndBump('e', 'AuditEvent', 'count')}
      SET e.lastAt = datetime()
      RETURN e.id AS id`,
    params: { tenantId: refusal.tenantId, windowStart, windowKey },
  });
  if (counted.length > 0) return;
  await tx.run({
    cypher: `
      CREATE (:AuditEvent {id: $id, tenantId: $tenantId, operation: $operation, actor: $actor,
                           actorKeyId: $actorKeyId, targetIds: [], outcome: $outcome,
                           code: $code, address: $address, windowKey: $windowKey, count: 1,
                           createdAt: datetime(), lastAt: datetime()})`,
    params: { id: randomUUID(), ...refusal, windowKey },
  });
}

/**
 * Deletes up to `limit` of the tenant's audit events created before `cutoff` (an ISO time);
 * returns how many it deleted. Per tenant, so the (tenantId, createdAt) index bounds the work.
 */
export async function deleteAuditEventsBefore(
  tx: Tx,
  tenantId: string,
  cutoff: string,
  limit: number,
): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (e:AuditEvent {tenantId: $tenantId}) WHERE e.createdAt < datetime($cutoff)
      WITH e LIMIT $limit
      DETACH DELETE e
      RETURN count(*) AS n`,
    params: { tenantId, cutoff, limit: neo4j.int(limit) },
  });
  return row?.n ?? 0;
}

/** Every tenant that may hold audit events: the named tenants and the system tenant. */
export async function auditTenantIds(tx: Tx, systemTenant: string): Promise<string[]> {
  const rows = await tx.run<{ id: string }>({ cypher: 'MATCH (t:Tenant) RETURN t.id AS id' });
  return [...new Set([systemTenant, ...rows.map((r) => r.id)])];
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
      // One operation's events from its (tenantId, operation) index when few (page-direct.ts).
      oneOf: filter.operation ? { property: 'operation', param: 'operations' } : undefined,
      conditions,
      params: { tenantId, ...filter, operations: [filter.operation] },
      sort: { property: 'createdAt', descending: true },
      page,
    },
    toAuditEvent,
  );
}
