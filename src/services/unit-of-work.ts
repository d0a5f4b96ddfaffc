import type { Graph } from '../../graph/graph.js';
import type { Tx } from '../../graph/cypher.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import type { DomainEvent } from '../../subscriptions/topics.js';

export type Emit = (event: DomainEvent) => void;

/**
 * Runs one mutation as one transaction and publishes the events it emitted only after the
 * commit. The driver may retry the work on a transient error, so events are collected afresh
 * on each attempt; a rolled-back attempt publishes nothing.
 */
export class UnitOfWork {
  constructor(
    private readonly graph: Graph,
    private readonly pubsub: PubSub,
  ) {}

  async run<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
    let events: DomainEvent[] = [];
    const result = await this.graph.write((tx) => {
      events = [];
      return work(tx, (e) => events.push(e));
    });
    for (const e of events) this.pubsub.publish(e.topic, e.payload);
    return result;
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.graph.read(work);
  }
}
