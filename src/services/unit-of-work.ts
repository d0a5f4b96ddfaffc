import type { Graph } from '../../graph/graph.js';
import type { Tx } from '../../graph/cypher.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import type { DomainEvent } from '../../subscriptions/topics.js';
import { writeAuditEvent } from '../../graph/audit.repository.js';
import { auditScope, collectIds } from '../audit-scope.js';
import { AuditOutcome } from '../domain/auth.js';
import { PublishOrder } from './publish-order.js';
import type { Outbox } from '../../subscriptions/outbox.js';
import type { NewOutboxRow } from '../../graph/outbox.repository.js';

export type Emit = (event: DomainEvent) => void;

/**
 * Runs one mutation as one transaction and publishes the events it emitted only after the
 * commit. The driver may retry the work on a transient error, so events are collected afresh
 * on each attempt; a rolled-back attempt publishes nothing. Inside a GraphQL mutation (an
 * audit scope), the SUCCESS audit event is written in the same transaction. Events of
 * different transactions are published in the order their commits were requested
 * (publish-order.ts), so an effect never reaches subscribers before its cause. With an
 * outbox (subscriptions/outbox.ts), the events are also written in the transaction, so a crash
 * between commit and publish loses none.
 */
export class UnitOfWork {
  constructor(
    private readonly graph: Graph,
    private readonly pubsub: PubSub,
    private readonly outbox: Outbox | null = null,
    private readonly order = new PublishOrder(),
  ) {}

  /**
   * The same bus, outbox and publish order over another connection pool (the engine's in the
   * API's process, src/engine/start.ts): events of both keep the order of their commits.
   */
  over(graph: Graph): UnitOfWork {
    return new UnitOfWork(graph, this.pubsub, this.outbox, this.order);
  }

  async run<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
    let events: DomainEvent[] = [];
    let rows: NewOutboxRow[] = [];
    let ticket: number | undefined;
    const giveUp = () => {
      if (ticket !== undefined) this.order.settle(ticket);
      ticket = undefined;
    };
    const scope = auditScope.getStore();
    const write = this.graph.write(async (tx) => {
      giveUp(); // an attempt the driver retries publishes nothing
      events = [];
      const value = await work(tx, (e) => events.push(e));
      if (scope && !scope.written) {
        await writeAuditEvent(tx, {
          tenantId: scope.tenantId,
          operation: scope.operation,
          actor: scope.actor,
          actorKeyId: scope.actorKeyId,
          targetIds: [...collectIds(value, new Set(scope.targetIds), 'id')],
          outcome: AuditOutcome.SUCCESS,
          code: null,
        });
      }
      if (this.outbox) rows = await this.outbox.write(tx, events);
      ticket = this.order.take(); // the commit is requested right after this returns
      return value;
    });
    const result = await write.catch((err: unknown) => {
      giveUp();
      throw err;
    });
    if (scope) scope.written = true;
    const committed = events;
    const written = rows;
    this.order.settle(ticket!, () => {
      if (this.outbox) this.outbox.published(written, committed);
      else for (const e of committed) void this.pubsub.publish(e.topic, e.payload);
    });
    return result;
  }

  /** Reads, each statement in one round trip (Graph.readAutoCommit: reads need no transaction). */
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.graph.readAutoCommit(work);
  }

  /**
   * A write outside any mutation's audit (audit records themselves, bookkeeping); `urgent`
   * ones go ahead of other writes waiting for a slot (lease renewals).
   */
  write<T>(work: (tx: Tx) => Promise<T>, options: { urgent?: boolean } = {}): Promise<T> {
    return this.graph.write(work, options);
  }
}
