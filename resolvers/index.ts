import type { NonEmptyArray } from 'type-graphql';
import { AgentResolver } from './agent.resolver.js';
import { AgentLiveVersionResolver, AgentVersionResolver } from './agent-version.resolver.js';
import { AgentPerformanceResolver, AnalyticsResolver } from './analytics.resolver.js';
import { AuthResolver } from './auth.resolver.js';
import {
  AnswerResolver,
  DecisionResolver,
  RunDecisionResolver,
  TaskConsensusResolver,
} from './consensus.resolver.js';
import { RunCheckpointsResolver } from './checkpoint.resolver.js';
import { HealthResolver } from './health.resolver.js';
import { ChatResolver } from './chat.resolver.js';
import { BudgetResolver } from './budget.resolver.js';
import { DocumentResolver } from './memory/document.resolver.js';
import { EntityResolver, EpisodeResolver, FactResolver } from './memory/memory.resolver.js';
import { RunResolver, WorkflowResolver } from './workflow.resolver.js';
import { PlanApprovalResolver } from './plan-approval.resolver.js';
import { ToolApprovalResolver } from './tool-approval.resolver.js';
import {
  RunToolCallsResolver,
  ToolCallEventsResolver,
  ToolServerResolver,
} from './tool-server.resolver.js';
import { RemoteAgentResolver } from './remote-agent.resolver.js';
import { ForkResolver } from './fork.resolver.js';
import {
  EvaluationResolver,
  RunEvaluationResolver,
  TaskEvaluationResolver,
} from './evaluation.resolver.js';
import { AgentTasksResolver, TaskResolver } from './task.resolver.js';
import { KnowledgeResolver } from './knowledge.resolver.js';
import { LessonResolver } from './lesson.resolver.js';
import { AgentSpawnResolver, SkillResolver } from './skill.resolver.js';
import { SearchMemoryResolver } from './memory/search-memory.resolver.js';
import { NodeResolver } from './node.resolver.js';
import { OrganisationResolver } from './organisation.resolver.js';
import {
  AgentLLMUsageResolver,
  LLMUsageResolver,
  RunLLMUsageResolver,
  TaskLLMUsageResolver,
} from './llm-usage.resolver.js';
import {
  AgentMessagesResolver,
  ConversationResolver,
  MessageResolver,
} from './message.resolver.js';

/** Every resolver class in the schema. */
export const RESOLVERS: NonEmptyArray<Function> = [
  HealthResolver,
  ChatResolver,
  WorkflowResolver,
  PlanApprovalResolver,
  ToolApprovalResolver,
  ToolServerResolver,
  RunToolCallsResolver,
  ToolCallEventsResolver,
  RemoteAgentResolver,
  ForkResolver,
  RunResolver,
  AuthResolver,
  NodeResolver,
  RunCheckpointsResolver,
  AgentResolver,
  AgentVersionResolver,
  AgentLiveVersionResolver,
  TaskResolver,
  AgentTasksResolver,
  KnowledgeResolver,
  LessonResolver,
  SkillResolver,
  AgentSpawnResolver,
  SearchMemoryResolver,
  MessageResolver,
  ConversationResolver,
  AgentMessagesResolver,
  OrganisationResolver,
  LLMUsageResolver,
  RunLLMUsageResolver,
  TaskLLMUsageResolver,
  AgentLLMUsageResolver,
  BudgetResolver,
  DocumentResolver,
  EntityResolver,
  FactResolver,
  EpisodeResolver,
  EvaluationResolver,
  RunEvaluationResolver,
  TaskEvaluationResolver,
  TaskConsensusResolver,
  RunDecisionResolver,
  DecisionResolver,
  AnswerResolver,
  AnalyticsResolver,
  AgentPerformanceResolver,
];
