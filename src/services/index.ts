import type { Graph } from '../../graph/graph.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { AgentService } from './agent.service.js';
import { SearchService } from './search.service.js';
import { TaskService } from './task.service.js';
import { KnowledgeService } from './knowledge.service.js';
import { MessageService } from './message.service.js';
import { OrganisationService } from './organisation.service.js';
import { UnitOfWork } from './unit-of-work.js';

/** The domain services, one set per process; they hold no per-request state. */
export function createServices(graph: Graph, pubsub: PubSub) {
  const uow = new UnitOfWork(graph, pubsub);
  return {
    agents: new AgentService(uow),
    tasks: new TaskService(uow),
    search: new SearchService(uow),
    knowledge: new KnowledgeService(uow),
    messages: new MessageService(uow),
    organisation: new OrganisationService(uow),
  };
}

export type Services = ReturnType<typeof createServices>;
