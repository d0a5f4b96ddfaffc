import type { Graph } from '../../graph/graph.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { AgentService } from './agent.service.js';
import { UnitOfWork } from './unit-of-work.js';

/** The domain services, one set per process; they hold no per-request state. */
export function createServices(graph: Graph, pubsub: PubSub) {
  const uow = new UnitOfWork(graph, pubsub);
  return {
    agents: new AgentService(uow),
  };
}

export type Services = ReturnType<typeof createServices>;
