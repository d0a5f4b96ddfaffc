import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';
import { lockAndBump } from './locks.js';

/**
 * The outbox: (:OutboxEvent) nodes written in the transaction of the change they announce,
 * so an event is as durable as its change. See subscriptions/outbox.ts for who moves them to
 * the bus and when they are deleted.
 */
export interface OutboxRow {
  id: string;
  tenantId: string | null;
  /** The event as encodeEvent() text (topic and payload). */
  event: string;
  /** When written (ms since epoch), and its place in its transaction: the relay's order. */
  at: number;
  seq: number;
  /** The process that wrote it. */
  owner: string;
  /** Left for an API process to publish (the writer has no shared bus). */
  handoff: boolean;
}

/**
 * What a relay takes: events whose claim lapsed, handed-off ones if asked, of these tenants;
 * never its own process's (that process's writer still holds them in its queue).
 */
export interface RelayScope {
  now: number;
  /** The relay's process: Outbox.owner. */
  claimant: string;
  handoffs: boolean;
  /** null: every tenant. */
  tenants: string[] | null;
}

const DUE = `e.claimUntil < $now AND e.owner <> $claimant AND (NOT e.handoff OR $handoffs)
  AND ($tenants IS NULL OR e.tenantId IN $tenants)`;

/**
 * One statement for all of a transaction's events. The writer holds them (claimUntil) until
 * `claimUntil`, renewing while it still means to publish them; handed-off ones are due at once.
 */
export async function writeOutbox(tx: Tx, rows: OutboxRow[], claimUntil: number): Promise<void> {
  await tx.run({
    cypher: `UNWIND $rows AS row
      CREATE (e:OutboxEvent) SET e = row,
        e.claimUntil = CASE WHEN row.handoff THEN 0 ELSE $claimUntil END`,
    params: { rows: rows.map((r) => ({ ...r, seq: neo4j.int(r.seq) })), claimUntil },
  });
}

/** Deletes published events; ids already gone are skipped. */
export async function deleteOutbox(tx: Tx, ids: string[]): Promise<void> {
  await tx.run({
    cypher: 'UNWIND $ids AS id MATCH (e:OutboxEvent {id: id}) DELETE e',
    params: { ids },
  });
}

/** Holds (or, with 0, releases) events until `claimUntil`. */
export async function claimOutboxUntil(tx: Tx, ids: string[], claimUntil: number): Promise<void> {
  await tx.run({
    cypher: 'UNWIND $ids AS id MATCH (e:OutboxEvent {id: id}) SET e.claimUntil = $claimUntil',
    params: { ids, claimUntil },
  });
}

/** Whether claimOutbox would find anything: a read, so an idle relay writes nothing. */
export async function outboxDue(tx: Tx, scope: RelayScope): Promise<boolean> {
  const [row] = await tx.run<{ due: boolean }>({
    cypher: `RETURN EXISTS { MATCH (e:OutboxEvent) WHERE ${DUE} } AS due`,
    params: { ...scope },
  });
  return row?.due ?? false;
}

/**
 * Claims up to `limit` due events for `claimant` until `now + leaseMs`, oldest first. Each
 * node's write lock is taken (lockAndBump) before the claim is read again, so two relays never
 * both claim one event (Neo4j reads are read-committed: a plain match-then-set could).
 */
export async function claimOutbox(
  tx: Tx,
  opts: RelayScope & { leaseMs: number; limit: number },
): Promise<OutboxRow[]> {
  const rows = await tx.run<{ row: OutboxRow }>({
    cypher: `
      MATCH (e:OutboxEvent) WHERE ${DUE}
      WITH e ORDER BY e.at, e.seq LIMIT $limit
      ${lockAndBump('e', 'OutboxEvent', 'claims')}
      WITH e WHERE e.claimUntil < $now
      SET e.claimUntil = $now + $leaseMs, e.claimedBy = $claimant
      RETURN e {.id, .tenantId, .event, .at, .seq, .owner, .handoff} AS row
      ORDER BY row.at, row.seq`,
    params: { ...opts, limit: neo4j.int(opts.limit) },
  });
  return rows.map((r) => r.row);
}

/** Deletes events older than `before` whatever their state; returns how many. */
export async function expireOutbox(tx: Tx, before: number, limit: number): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `MATCH (e:OutboxEvent) WHERE e.at < $before
      WITH e LIMIT $limit DELETE e RETURN count(*) AS n`,
    params: { before, limit: neo4j.int(limit) },
  });
  return row?.n ?? 0;
}
