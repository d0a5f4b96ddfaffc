import { ToolApprovalService } from './tool-approval.service.js';
import { ForkService } from './fork.service.js';
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
import { ChatService } from './chat.service.js';
import { createAgentRuntime } from '../agents/runtime.js';
import { llmEnvSchema, llmFromEnv, type LlmConfig } from '../llm/config.js';
import { createLogger, type Logger } from '../logger.js';
import { WorkflowService } from './workflow.service.js';
import { PlanApprovalService } from './plan-approval.service.js';
import { LessonService } from '../evolution/lessons/lesson.service.js';
import { EvaluationService } from './evaluation.service.js';
import { AgentVersionService } from '../evolution/versions/versions.service.js';
import type { EvolutionConfig } from '../evolution/config.js';
import { AnalyticsService } from '../evolution/analytics.js';
import { BudgetService } from './budget.service.js';
import { budgetGuard } from '../llm/budget.js';
import type { BudgetDefaults } from '../domain/budget.js';
import type { Embedder } from '../memory/embeddings/embedder.js';
import { OfflineEmbedder } from '../memory/embeddings/offline.embedder.js';
import { DocumentService } from '../memory/documents/document.service.js';
import { MemoryService } from '../memory/memory.service.js';
import { MemorySearch } from '../memory/retrieval/search.js';
import type { DocumentLimits } from '../memory/documents/config.js';
import type { BacklogLimits } from '../domain/backlog.js';
import type { Outbox } from '../../subscriptions/outbox.js';
import { McpToolPool } from '../mcp-client/pool.js';
import { DEFAULT_MCP_CLIENT } from '../mcp-client/config.js';
import { ToolServerService } from './tool-server.service.js';
import { RemoteAgentService } from '../a2a/remote.js';

/** The domain services, one set per process; they hold no per-request state. */
export function createServices(
  graph: Graph,
  pubsub: PubSub,
  options: {
    llm?: LlmConfig;
    logger?: Logger;
    budgets?: BudgetDefaults;
    /** Embeds memory; the offline embedder when unset. */
    embedder?: Embedder;
    /** Document size and chunk limits; DEFAULT_DOCUMENT_LIMITS when unset. */
    documents?: DocumentLimits;
    /** What one tenant may have waiting (TENANT_MAX_*); DEFAULT_BACKLOG_LIMITS when unset. */
    backlog?: BacklogLimits;
    /** The learning loop's settings (the canary share of proposed versions); defaults when unset. */
    evolution?: Pick<EvolutionConfig, 'canary'>;
    /** Writes events in their transactions (a shared bus); none when unset. */
    outbox?: Outbox;
    /** Sessions to outside MCP servers (issue 16); one with the defaults when unset. */
    mcp?: McpToolPool;
  } = {},
) {
  const uow = new UnitOfWork(graph, pubsub, options.outbox);
  const logger = options.logger ?? createLogger('silent');
  const budgets = new BudgetService(uow, options.budgets);
  const embedder = options.embedder ?? new OfflineEmbedder();
  const runtime = createAgentRuntime({
    uow,
    llm: options.llm ?? llmFromEnv(llmEnvSchema.parse({})),
    logger,
    // Chat spends too: its calls count against the tenant's and the agent's budgets.
    guard: budgetGuard({ uow, defaults: budgets.defaults, logger }),
    // A chat turn is an episode: people's turns count against TENANT_MAX_PENDING_EPISODES.
    backlog: options.backlog,
  });
  const agents = new AgentService(uow);
  const mcp = options.mcp ?? new McpToolPool(DEFAULT_MCP_CLIENT, logger);
  return {
    uow,
    agents,
    tasks: new TaskService(uow, options.backlog),
    messages: new MessageService(uow, options.backlog),
    knowledge: new KnowledgeService(uow),
    search: new SearchService(uow),
    organisation: new OrganisationService(uow, options.backlog),
    auth: new AuthService(uow),
    audit: new AuditService(uow),
    workflows: new WorkflowService(uow, options.backlog),
    /** forkRun: what-if attempts from a run's checkpoint (issue 13). */
    forks: new ForkService(uow, options.backlog),
    /** Tool policies and decisions on held tool calls (issue 13). */
    toolApproval: new ToolApprovalService(uow),
    /** approvePlan and rejectPlan (issue 13). */
    plans: new PlanApprovalService(uow, options.backlog),
    chat: new ChatService(runtime, pubsub),
    budgets,
    memory: new MemoryService(uow, options.backlog),
    /** Lessons' evidence and lifecycle for people (issue 12). */
    lessons: new LessonService(uow),
    /** Embeds memory (ingestion, retrieval): one per process, the offline one when not given. */
    embedder,
    /** searchMemory: BM25, vectors and graph distance, fused (src/memory/retrieval). */
    memorySearch: new MemorySearch({ uow, embedder, logger }),
    documents: new DocumentService(uow, options.documents, options.backlog),
    /** People's ratings of tasks and runs (issue 12). */
    evaluations: new EvaluationService(uow),
    /** Agent versions: history, proposals, promotion and rollback (issue 12). */
    versions: new AgentVersionService({
      uow,
      llm: options.llm ?? llmFromEnv(llmEnvSchema.parse({})),
      logger,
      budgets: budgets.defaults,
      pubsub,
      canary: options.evolution?.canary,
    }),
    /** agentPerformance, capabilityPerformance (issue 12). */
    analytics: new AnalyticsService(uow),
    /** Outside MCP servers for agents, and their grants (issue 16). */
    /** Outside A2A agents as Master Operators (issue 16). */
    remoteAgents: new RemoteAgentService(agents, mcp.cfg),
    toolServers: new ToolServerService(uow, mcp),
  };
}

export type Services = ReturnType<typeof createServices>;
