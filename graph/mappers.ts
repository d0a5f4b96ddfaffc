import neo4j from 'neo4j-driver';
import type { Agent, AgentCapability } from '../src/domain/agent.js';
import type { ApiKey, AuditEvent, Tenant } from '../src/domain/auth.js';
import type { Knowledge } from '../src/domain/knowledge.js';
import type { Conversation, Message } from '../src/domain/message.js';
import type { Task } from '../src/domain/task.js';
import type { NodeLike } from './page.js';

/**
 * The one place where Neo4j records become domain objects: times become ISO strings,
 * missing optionals become null. Nothing of the driver's types passes beyond these functions.
 */
export function iso(value: unknown): string {
  if (neo4j.isDateTime(value as never)) {
    return new Date((value as { toString(): string }).toString()).toISOString();
  }
  return typeof value === 'string' ? value : new Date(String(value)).toISOString();
}

const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);

export function toAgent({ properties: p }: NodeLike): Agent {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    name: String(p.name),
    description: str(p.description),
    role: p.role as Agent['role'],
    status: p.status as Agent['status'],
    active: Boolean(p.active),
    model: str(p.model),
    systemPrompt: str(p.systemPrompt),
    version: num(p.version, 1),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function toCapability(
  agentId: string,
  name: string,
  rel: Record<string, unknown>,
): AgentCapability {
  return {
    agentId,
    name,
    proficiency: num(rel.proficiency, 0.5),
    runs: num(rel.runs),
    successes: num(rel.successes),
    avgLatencyMs: num(rel.avgLatencyMs),
    avgCostUsd: num(rel.avgCostUsd),
  };
}

export function toTask({ properties: p }: NodeLike): Task {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    title: String(p.title),
    description: str(p.description),
    priority: p.priority as Task['priority'],
    status: p.status as Task['status'],
    result: str(p.result),
    error: str(p.error),
    attempts: num(p.attempts),
    maxAttempts: num(p.maxAttempts, 3),
    key: str(p.key),
    condition: str(p.condition),
    requiresApproval: Boolean(p.requiresApproval),
    failurePolicy: (p.failurePolicy as Task['failurePolicy']) ?? 'FAIL_FAST',
    orchestrated: Boolean(p.orchestrated),
    needsPlan: Boolean(p.needsPlan),
    decision: (p.decision as Task['decision']) ?? null,
    decidedBy: str(p.decidedBy),
    decisionComment: str(p.decisionComment),
    createdBy: str(p.createdBy),
    version: num(p.version, 1),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function toMessage({ properties: p }: NodeLike): Message {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    kind: p.kind as Message['kind'],
    content: String(p.content),
    senderUser: str(p.senderUser),
    broadcast: Boolean(p.broadcast),
    conversationId: String(p.conversationId),
    seq: num(p.seq),
    createdAt: iso(p.createdAt),
  };
}

export function toConversation({ properties: p }: NodeLike): Conversation {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    title: str(p.title),
    messageCount: num(p.messageCount),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function toKnowledge({ properties: p }: NodeLike): Knowledge {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    kind: p.kind as Knowledge['kind'],
    content: String(p.content),
    confidence: num(p.confidence, 1),
    tags: Array.isArray(p.tags) ? p.tags.map(String) : [],
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function toTenant({ properties: p }: NodeLike): Tenant {
  return { id: String(p.id), name: String(p.name), createdAt: iso(p.createdAt) };
}

export function toApiKey({ properties: p }: NodeLike): ApiKey {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    name: String(p.name),
    role: p.role as ApiKey['role'],
    prefix: String(p.prefix),
    createdAt: iso(p.createdAt),
    lastUsedAt: p.lastUsedAt ? iso(p.lastUsedAt) : null,
    revokedAt: p.revokedAt ? iso(p.revokedAt) : null,
  };
}

export function toAuditEvent({ properties: p }: NodeLike): AuditEvent {
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    operation: String(p.operation),
    actor: str(p.actor),
    actorKeyId: str(p.actorKeyId),
    targetIds: Array.isArray(p.targetIds) ? p.targetIds.map(String) : [],
    outcome: p.outcome as AuditEvent['outcome'],
    code: str(p.code),
    createdAt: iso(p.createdAt),
  };
}
