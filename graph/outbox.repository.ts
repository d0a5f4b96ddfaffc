import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';
import { byTurns } from './engine-scope.js';
import { lockAndBump } from './locks.js';

/**
 * The outbox: (:OutboxEvent) nodes written in the transaction of the change they announce,
 * so an event is as durable as its change. See subscriptions/outbox.ts for who moves them to
 * the bus and when they are deleted. Times (`at`, `claimUntil`) are the database's
 * (`timestamp()`), as leases are: processes on machines whose clocks differ compare them, and
 * a relay an hour ahead took a living writer's events, one an hour behind left a dead one's.
 */
export interface OutboxRow {
  id: string;
  tenantId: string | null;
  /** The event as encodeEvent() text (topic and payload). */
  event: string;
  /**
   * When written (the database's ms since epoch), and its place in its transaction: the
   * relay's order.
   */
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
  /** The relay's process: Outbox.owner. */
  claimant: string;
  handoffs: boolean;
  /** null: every tenant. */
  tenants: string[] | null;
}

const DUE = `e.claimUntil < timestamp() AND e.owner <> $claimant AND (NOT e.handoff OR $handoffs)
  AND ($tenants IS NULL OR e.tenantId IN $tenants)`;

/** A row as written: the database sets when. */
export type NewOutboxRow = Omit<OutboxRow, 'at'>;

/**
 * One statement for all of a transaction's events. The writer holds them (claimUntil) for
 * `holdMs`, renewing while it still means to publish them; handed-off ones are due at once.
 */
export async function writeOutbox(tx: Tx, rows: NewOutboxRow[], holdMs: number): Promise<void> {
  await tx.run({
    cypher: `UNWIND $rows AS row
      CREATE (e:OutboxEvent) SET e = row, e.at = timestamp(),
        e.claimUntil = CASE WHEN row.handoff THEN 0 ELSE timestamp() + $holdMs END`,
    params: { rows: rows.map((r) => ({ ...r, seq: neo4j.int(r.seq) })), holdMs },
  });
}

/** Deletes published events; ids already gone are skipped. */
export async function deleteOutbox(tx: Tx, ids: string[]): Promise<void> {
  await tx.run({
    cypher: 'UNWIND $ids AS id MATCH (e:OutboxEvent {id: id}) DELETE e',
    params: { ids },
  });
}

/** Holds events for `forMs` from now, or with 0 releases them. */
export async function claimOutboxFor(tx: Tx, ids: string[], forMs: number): Promise<void> {
  await tx.run({
    cypher: `UNWIND $ids AS id MATCH (e:OutboxEvent {id: id})
      SET e.claimUntil = CASE WHEN $forMs > 0 THEN timestamp() + $forMs ELSE 0 END`,
    params: { ids, forMs },
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
 * Claims up to `limit` due events for `claimant` for `leaseMs`: each tenant's oldest first, by
 * turns between tenants (oldest first overall, one tenant's flood of events held every other
 * tenant's back by whole batches); a tenant's in order, as the relay publishes them. Each
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
      ${byTurns('e', 'e.at, e.seq', '$limit')}
      ${lockAndBump('e', 'OutboxEvent', 'claims')}
      WITH e WHERE e.claimUntil < timestamp()
      SET e.claimUntil = timestamp() + $leaseMs, e.claimedBy = $claimant
      RETURN e {.id, .tenantId, .event, .at, .seq, .owner, .handoff} AS row
      ORDER BY row.at, row.seq`,
    params: { ...opts, limit: neo4j.int(opts.limit) },
  });
  return rows.map((r) => r.row);
}

/** Deletes events written over `ageMs` ago whatever their state; returns how many. */
export async function expireOutbox(tx: Tx, ageMs: number, limit: number): Promise<number> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `MATCH (e:OutboxEvent) WHERE e.at < timestamp() - $ageMs
      WITH e LIMIT $limit DELETE e RETURN count(*) AS n`,
    params: { ageMs, limit: neo4j.int(limit) },
  });
  return row?.n ?? 0;
}
