import type { Graph } from '../../graph/graph.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { AgentService } from './agent.service.js';
import { AuditService } from './audit.service.js';
import { AuthService } from './auth.service.js';
import { KnowledgeService } from './knowledge.service.js';
import { MessageService } from './message.service.js';
import { OrganisationService } from './organisation.service.js';
import { SearchService } from './search.service.js';
import { TaskService } from './task.service.js';
import { UnitOfWork } from './unit-of-work.js';
import { WorkflowService } from './workflow.service.js';

/** The domain services, one set per process; they hold no per-request state. */
export function createServices(graph: Graph, pubsub: PubSub) {
  const uow = new UnitOfWork(graph, pubsub);
  return {
    uow,
    agents: new AgentService(uow),
    tasks: new TaskService(uow),
    messages: new MessageService(uow),
    knowledge: new KnowledgeService(uow),
    search: new SearchService(uow),
    organisation: new OrganisationService(uow),
    auth: new AuthService(uow),
    audit: new AuditService(uow),
    workflows: new WorkflowService(uow),
  };
}

export type Services = ReturnType<typeof createServices>;
