import neo4j from 'neo4j-driver';
import { AgentRole, AgentStatus, type Agent, type AgentCapability } from '../src/domain/agent.js';
import type { ApiKey, AuditEvent, Tenant } from '../src/domain/auth.js';
import { AppError } from '../src/domain/errors.js';
import { KnowledgeKind, type Knowledge } from '../src/domain/knowledge.js';
import { MessageKind, type Conversation, type Message } from '../src/domain/message.js';
import {
  ApprovalDecision,
  FailurePolicy,
  TaskPriority,
  TaskStatus,
  type Task,
} from '../src/domain/task.js';
import type { NodeLike } from './page.js';
import { projection } from './projections.js';

/**
 * The one place where Neo4j records become domain objects: times become ISO strings,
 * missing optionals become null. Nothing of the driver's types passes beyond these functions.
 * A stored node that breaks the domain's rules (written by raw Cypher, or by an import before
 * imports were validated: issue 9) is refused with a MalformedNodeError naming it.
 */
export function iso(value: unknown): string {
  if (neo4j.isDateTime(value as never)) {
    return new Date((value as { toString(): string }).toString()).toISOString();
  }
  if (typeof value === 'string') {
    // Text from a projection (projections.ts) is Neo4j's toString(): "…00Z", "…00.12Z".
    const time = Date.parse(value);
    return Number.isNaN(time) ? value : new Date(time).toISOString();
  }
  return new Date(String(value)).toISOString();
}

/**
 * A stored node that cannot become a domain object (a missing or unreadable required
 * property). `elementId` lets the engine quarantine it even when its id is the bad field.
 */
export class MalformedNodeError extends AppError {
  constructor(
    readonly label: string,
    readonly nodeId: string | null,
    readonly field: string,
    problem: string,
    readonly elementId: string | null,
  ) {
    super(
      'MALFORMED_NODE',
      `${label} ${nodeId === null ? '(without an id)' : `"${nodeId}"`} cannot be read: ${field} ${problem}; fix or delete this node (e.g. importOrganisation with merge)`,
      { label, id: nodeId, field },
    );
  }
}

let report: (err: MalformedNodeError) => void = () => {};
const reported = new Set<string>();

/** Where list reads report the nodes they leave out (the server's logger), once per node. */
export function reportMalformedNodes(to: (err: MalformedNodeError) => void): void {
  report = to;
}

/**
 * Maps one node of a list, or returns undefined (reported once) when it cannot be read: one
 * bad node leaves the list, it no longer takes down the whole list (issue 9). A single read
 * (node, task) still throws the typed error naming the node.
 */
export function mapOrSkip<T>(map: (node: NodeLike) => T, node: NodeLike): T | undefined {
  try {
    return map(node);
  } catch (err) {
    if (!(err instanceof MalformedNodeError)) throw err;
    const key = err.elementId ?? err.message;
    if (!reported.has(key)) {
      if (reported.size >= 10_000) reported.clear();
      reported.add(key);
      report(err);
    }
    return undefined;
  }
}

/** Reads required and enumerated properties of one node, throwing MalformedNodeError. */
export class Reader {
  readonly p: Record<string, unknown>;
  constructor(
    private readonly label: string,
    private readonly node: NodeLike,
  ) {
    this.p = node.properties;
  }

  private fail(field: string, problem: string): never {
    const id = typeof this.p.id === 'string' ? this.p.id : null;
    const elementId = (this.node as { elementId?: unknown }).elementId;
    throw new MalformedNodeError(
      this.label,
      id,
      field,
      problem,
      typeof elementId === 'string' ? elementId : null,
    );
  }

  text(field: string): string {
    const v = this.p[field];
    if (typeof v !== 'string') this.fail(field, `must be a string, but got ${shown(v)}`);
    return v;
  }

  time(field: string): string {
    const v = this.p[field];
    const ok = neo4j.isDateTime(v as never) || (typeof v === 'string' && !isNaN(Date.parse(v)));
    if (!ok) this.fail(field, `must be a date-time, but got ${shown(v)}`);
    return iso(v);
  }

  oneOf<T extends string>(field: string, values: Record<string, T>, fallback?: T): T {
    const v = this.p[field];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (!(Object.values(values) as unknown[]).includes(v)) {
      this.fail(field, `must be one of ${Object.values(values).join(', ')}, but got ${shown(v)}`);
    }
    return v as T;
  }
}

function shown(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export const str = (v: unknown): string | null =>
  v === undefined || v === null ? null : String(v);
export const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);

/**
 * What choosing an agent reads of one (claim.repository's candidates), checked as toAgent
 * checks it: a malformed one is quarantined by the claim, not a TypeError for every claim.
 */
export function toAgentSummary(
  node: NodeLike,
): Pick<Agent, 'id' | 'tenantId' | 'name' | 'role' | 'status'> {
  const r = new Reader('Agent', node);
  return {
    id: r.text('id'),
    tenantId: String(r.p.tenantId),
    name: r.text('name'),
    role: r.oneOf('role', AgentRole),
    status: r.oneOf('status', AgentStatus),
  };
}

/** An agent's properties a query can select alone (AGENT reads each; `remote` is three). */
export type AgentProperty = Exclude<keyof Agent, 'remote' | 'versionId' | 'usedVersion'>;

/** How each property of an agent is read (one place for toAgent and toAgentFields). */
const AGENT: { [K in AgentProperty]-?: (r: Reader) => Agent[K] } = {
  id: (r) => r.text('id'),
  tenantId: (r) => String(r.p.tenantId),
  name: (r) => r.text('name'),
  description: (r) => str(r.p.description),
  role: (r) => r.oneOf('role', AgentRole),
  status: (r) => r.oneOf('status', AgentStatus),
  active: (r) => Boolean(r.p.active),
  model: (r) => str(r.p.model),
  systemPrompt: (r) => str(r.p.systemPrompt),
  version: (r) => num(r.p.version, 1),
  temperature: (r) => (typeof r.p.temperature === 'number' ? r.p.temperature : null),
  tools: (r) => (Array.isArray(r.p.tools) ? (r.p.tools as unknown[]).map(String) : []),
  lessonBudget: (r) => (r.p.lessonBudget == null ? null : num(r.p.lessonBudget, 0)),
  reviewPlans: (r) => Boolean(r.p.reviewPlans),
  createdAt: (r) => r.time('createdAt'),
  updatedAt: (r) => r.time('updatedAt'),
};
const AGENT_PROPERTIES = Object.keys(AGENT) as AgentProperty[];

export function toAgent(node: NodeLike): Agent {
  const agent = toAgentFields(node, AGENT_PROPERTIES);
  const p = node.properties;
  agent.remote =
    typeof p.remoteUrl === 'string'
      ? {
          url: p.remoteUrl,
          headers: typeof p.remoteHeadersJson === 'string' ? JSON.parse(p.remoteHeadersJson) : [],
          headersSealed: str(p.remoteHeadersSealed),
        }
      : null;
  return agent;
}

/** `selected` (GraphQL field names) when each is a property of an agent; null otherwise. */
export function agentPropertiesOnly(selected: readonly string[]): AgentProperty[] | null {
  return propertiesOnly(AGENT, selected);
}

/** An agent with only `fields` read, and its id, as toTaskFields reads a task. */
export function toAgentFields(node: NodeLike, fields: readonly AgentProperty[]): Agent {
  return readFields<Agent>('Agent', AGENT, node, fields);
}

type Readers = Record<string, (r: Reader) => unknown>;

/** `selected` when each is one of `table`'s properties; null otherwise. */
function propertiesOnly<K extends string>(
  table: Record<K, unknown>,
  selected: readonly string[] | null,
): K[] | null {
  return selected?.every((f) => Object.hasOwn(table, f)) ? (selected as K[]) : null;
}

/**
 * A node with only `fields` read by `table`, and its id: for an answer that selects no more
 * (resolvers/selection.ts), from a projection of those properties (projections.ts). The others
 * are absent: such an object goes to the client, never to the engine.
 */
function readFields<T>(label: string, table: Readers, node: NodeLike, fields: readonly string[]) {
  const r = new Reader(label, node);
  const read: Record<string, unknown> = { id: table.id!(r) };
  for (const f of fields) read[f] = table[f]!(r);
  return read as T;
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

/** How each property of a task is read (one place for toTask and toTaskFields). */
const TASK: { [K in keyof Task]-?: (r: Reader) => Task[K] } = {
  id: (r) => r.text('id'),
  tenantId: (r) => String(r.p.tenantId),
  title: (r) => r.text('title'),
  description: (r) => str(r.p.description),
  priority: (r) => r.oneOf('priority', TaskPriority),
  status: (r) => r.oneOf('status', TaskStatus),
  result: (r) => str(r.p.result),
  error: (r) => str(r.p.error),
  waitingReason: (r) => str(r.p.waitingReason),
  attempts: (r) => num(r.p.attempts),
  maxAttempts: (r) => num(r.p.maxAttempts, 3),
  key: (r) => str(r.p.key),
  condition: (r) => str(r.p.condition),
  requiresApproval: (r) => Boolean(r.p.requiresApproval),
  failurePolicy: (r) => r.oneOf('failurePolicy', FailurePolicy, FailurePolicy.FAIL_FAST),
  orchestrated: (r) => Boolean(r.p.orchestrated),
  orchestratedAt: (r) => (r.p.orchestratedAt == null ? null : r.time('orchestratedAt')),
  needsPlan: (r) => Boolean(r.p.needsPlan),
  expectedOutput: (r) => str(r.p.expectedOutput),
  decision: (r) => (r.p.decision == null ? null : r.oneOf('decision', ApprovalDecision)),
  planApproval: (r) => Boolean(r.p.planApproval),
  removedFromPlan: (r) => Boolean(r.p.removedFromPlan),
  planFeedback: (r) => str(r.p.planFeedback),
  decidedBy: (r) => str(r.p.decidedBy),
  decisionComment: (r) => str(r.p.decisionComment),
  family: (r) => str(r.p.family),
  createdBy: (r) => str(r.p.createdBy),
  version: (r) => num(r.p.version, 1),
  createdAt: (r) => r.time('createdAt'),
  updatedAt: (r) => r.time('updatedAt'),
};

/** The properties of a task as the domain names them (the GraphQL Task's plain fields too). */
export const TASK_PROPERTIES = Object.keys(TASK) as (keyof Task)[];

export function toTask(node: NodeLike): Task {
  return toTaskFields(node, TASK_PROPERTIES);
}

/** How a task projected with `fields` (none: all of them; projections.ts) is read. */
export function taskReader(fields?: readonly (keyof Task)[] | null): (value: unknown) => Task {
  const { node } = projection('Task', fields ?? null);
  return fields ? (value) => toTaskFields(node(value), fields) : (value) => toTask(node(value));
}

/** A whole task's projection (projection('Task')) read. */
export const readTask = taskReader();

/** A whole agent's projection (projection('Agent')) read. */
export function readAgent(value: unknown): Agent {
  return toAgent(projection('Agent').node(value));
}

/** `selected` (GraphQL field names) when each is a property of a task; null otherwise. */
export function taskPropertiesOnly(selected: readonly string[] | null): (keyof Task)[] | null {
  return propertiesOnly(TASK, selected);
}

/** A task with only `fields` read, and its id (readFields). */
export function toTaskFields(node: NodeLike, fields: readonly (keyof Task)[]): Task {
  return readFields<Task>('Task', TASK, node, fields);
}

export function toMessage(node: NodeLike): Message {
  const r = new Reader('Message', node);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    kind: r.oneOf('kind', MessageKind),
    content: String(p.content),
    senderUser: str(p.senderUser),
    broadcast: Boolean(p.broadcast),
    conversationId: String(p.conversationId),
    seq: num(p.seq),
    createdAt: r.time('createdAt'),
  };
}

export function toConversation(node: NodeLike): Conversation {
  const r = new Reader('Conversation', node);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    title: str(p.title),
    messageCount: num(p.messageCount),
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
  };
}

export function toKnowledge(node: NodeLike): Knowledge {
  const r = new Reader('Knowledge', node);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    kind: r.oneOf('kind', KnowledgeKind),
    content: String(p.content),
    confidence: num(p.confidence, 1),
    tags: Array.isArray(p.tags) ? p.tags.map(String) : [],
    status: str(p.status),
    capability: str(p.capability),
    family: str(p.family),
    strength: p.strength == null ? null : num(p.strength, 1),
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
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
    count: num(p.count, 1),
    address: str(p.address),
    createdAt: iso(p.createdAt),
  };
}
