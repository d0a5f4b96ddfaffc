import type { Agent, AgentStatus } from '../src/domain/agent.js';
import type { Message } from '../src/domain/message.js';
import type { Task } from '../src/domain/task.js';
import type { ToolCallRecord } from '../src/domain/tool-server.js';

/** Every topic, by name. Publishers and subscription resolvers import these; no topic is typed twice. */
export const TOPICS = {
  agentStatusChanged: 'AGENT_STATUS_CHANGED',
  taskUpdated: 'TASK_UPDATED',
  messageSent: 'MESSAGE_SENT',
  apiKeyRevoked: 'API_KEY_REVOKED',
  chatToken: 'CHAT_TOKEN',
  stepToken: 'STEP_TOKEN',
  nodeQuarantined: 'NODE_QUARANTINED',
  budgetWarning: 'BUDGET_WARNING',
  documentProgress: 'DOCUMENT_PROGRESS',
  evolution: 'EVOLUTION',
  toolCalled: 'TOOL_CALLED',
} as const;

/**
 * Something the platform learned or decided (issue 12), published after its transaction commits:
 * a run or task judged or rated, a lesson, skill or agent version changing state, an agent
 * spawned or retired, a consensus decided.
 */
export interface EvolutionEvent {
  tenantId: string;
  kind:
    | 'EVALUATED'
    | 'LESSON_CHANGED'
    | 'SKILL_CHANGED'
    | 'VERSION_CHANGED'
    | 'AGENT_SPAWNED'
    | 'AGENT_RETIRED'
    | 'CONSENSUS_DECIDED';
  /** The node it is about (an Evaluation's subject, a Knowledge, an AgentVersion, an Agent, a Task). */
  subjectLabel: 'Run' | 'Task' | 'Knowledge' | 'AgentVersion' | 'Agent';
  subjectId: string;
  /** One line for people: what happened and why. */
  summary: string;
}

/** An uploaded document's ingestion moved on: published after each of its chunk episodes commits (issue 11). */
export interface DocumentProgressEvent {
  tenantId: string;
  documentId: string;
  /** How many chunk episodes the document has. */
  chunks: number;
  /** Chunk episodes INGESTED so far. */
  ingested: number;
  /** Chunk episodes FAILED so far. */
  failed: number;
  /** INGESTING until every chunk is INGESTED or FAILED; then INGESTED, or FAILED if any chunk failed. */
  status: 'INGESTING' | 'INGESTED' | 'FAILED';
}

/** Spending passed the warning share of a budget (once per budget and limit). */
export interface BudgetWarningEvent {
  tenantId: string;
  scope: 'TENANT' | 'AGENT' | 'TASK';
  /** The tenant's, agent's or root task's id. */
  targetId: string;
  unit: 'USD' | 'TOKENS';
  limit: number;
  spent: number;
  /** spent / limit. */
  share: number;
}

/**
 * Internal: the engine took a node it cannot read out of its loops (issue 9), once per node.
 * The node keeps its data, gains the :Quarantined label and is no longer claimable.
 */
export interface NodeQuarantinedEvent {
  tenantId: string | null;
  label: 'Task' | 'Agent';
  id: string | null;
  reason: string;
}

/** One token a model produced while an agent works on a step. */
export interface StepTokenEvent {
  tenantId: string;
  taskId: string;
  /** The tasks above the step, nearest first: stepTokens(taskId) of a root hears its steps. */
  ancestorIds: string[];
  runId: string;
  agentId: string;
  purpose: string;
  token: string;
}

/** One token of an agent's streaming chat reply; `done` closes the reply. */
export interface ChatTokenEvent {
  tenantId: string;
  conversationId: string;
  agentId: string;
  /** The id the reply is stored under once done. */
  replyId: string;
  token: string;
  /** 0, 1, ... in order; -1 on the closing event of a failed reply. */
  index: number;
  done: boolean;
  /** Why the reply failed (on its closing event); null otherwise. */
  error: string | null;
}

export interface AgentStatusChangedEvent {
  tenantId: string;
  agent: Agent;
  previousStatus: AgentStatus | null;
}

export interface TaskUpdatedEvent {
  tenantId: string;
  task: Task;
  /** What happened, e.g. CREATED, WORKFLOW_STARTED, STARTED, STATUS_CHANGED (TaskUpdate.change). */
  change: string;
  /** Parent, grandparent, ...: lets a subscriber watch a whole subtree. */
  ancestorIds: string[];
  /**
   * The task's event number: 1, 2, ... in commit order (sequence.ts). Absent on events
   * written before tasks' events were numbered.
   */
  seq?: number;
  /** When the task's event before this one was written (ms since epoch), null for its first. */
  previousAt?: number | null;
  /**
   * A step's end that promoted its dependants in its own transaction: no scheduler needs to
   * look for steps it unblocked (src/engine/task-watch.ts). Absent: someone may need to.
   */
  dependantsMoved?: boolean;
}

export interface MessageSentEvent {
  tenantId: string;
  message: Message;
  senderAgentId: string | null;
  recipientIds: string[];
}

/** Internal: ends the WebSocket connections that authenticated with this key. */
export interface ApiKeyRevokedEvent {
  tenantId: string;
  keyId: string;
}

/** An agent's call to an outside MCP tool ended and was recorded (issue 16). */
export interface ToolCalledEvent {
  tenantId: string;
  toolCall: ToolCallRecord;
}

export interface EventPayloads {
  [TOPICS.agentStatusChanged]: AgentStatusChangedEvent;
  [TOPICS.taskUpdated]: TaskUpdatedEvent;
  [TOPICS.messageSent]: MessageSentEvent;
  [TOPICS.apiKeyRevoked]: ApiKeyRevokedEvent;
  [TOPICS.chatToken]: ChatTokenEvent;
  [TOPICS.stepToken]: StepTokenEvent;
  [TOPICS.nodeQuarantined]: NodeQuarantinedEvent;
  [TOPICS.budgetWarning]: BudgetWarningEvent;
  [TOPICS.documentProgress]: DocumentProgressEvent;
  [TOPICS.evolution]: EvolutionEvent;
  [TOPICS.toolCalled]: ToolCalledEvent;
}

export type Topic = keyof EventPayloads;

export type DomainEvent = {
  [K in Topic]: { topic: K; payload: EventPayloads[K] };
}[Topic];
