import { AgentRole, AgentStatus } from './agent.js';
import { VersionOrigin, VersionStatus } from './agent-version.js';
import { BadInputError } from './errors.js';
import { CONSENSUS_VOTERS, ConsensusStrategy } from './consensus.js';
import { KnowledgeKind } from './knowledge.js';
import { MessageKind } from './message.js';
import {
  scalarKind,
  type EncodedValue,
  type ExportedNode,
  type ExportedRelationship,
  type ExportLabel,
} from './organisation-export.js';
import { ApprovalDecision, FailurePolicy, TaskPriority, TaskStatus } from './task.js';
import { LIMITS, numberInRange, plainName, requiredText } from './validate.js';

/**
 * The domain rules an imported document must keep, label by label: the properties the API
 * writes and the platform reads, with their kinds, enums and bounds. Before issue 9 an import
 * wrote any properties, and one Task without createdAt stopped the shared engine. Properties
 * not named here are the document's own and pass as they are.
 */

type Kind = 'string' | 'boolean' | 'integer' | 'number' | 'datetime' | 'strings';

interface Rule {
  kind: Kind;
  required?: boolean;
  /** Allowed values (enums, from src/domain). */
  oneOf?: readonly string[];
  /** Strings: 1 to max characters (the API's LIMITS). */
  max?: number;
  /** Strings (each string of a list): a name, without the characters plainName refuses. */
  name?: boolean;
  /** Numbers: inclusive bounds. */
  min?: number;
  upTo?: number;
}

const req = (kind: Kind, more: Omit<Rule, 'kind'> = {}): Rule => ({
  kind,
  required: true,
  ...more,
});
const opt = (kind: Kind, more: Omit<Rule, 'kind'> = {}): Rule => ({ kind, ...more });
const values = (e: Record<string, string>) => Object.values(e);

const STAMPS = { createdAt: req('datetime'), updatedAt: req('datetime') };

/** Per label: the rules of the properties the platform owns. */
export const NODE_RULES: Record<ExportLabel, Record<string, Rule>> = {
  Agent: {
    name: req('string', { max: LIMITS.name, name: true }),
    role: req('string', { oneOf: values(AgentRole) }),
    status: req('string', { oneOf: values(AgentStatus) }),
    active: req('boolean'),
    version: req('integer', { min: 1 }),
    description: opt('string'),
    model: opt('string'),
    systemPrompt: opt('string'),
    temperature: opt('number', { min: 0, upTo: 2 }),
    tools: opt('strings', { name: true }),
    lessonBudget: opt('integer', { min: 0, upTo: 50 }),
    // Spawned by a Chief of Staff (issue 12), and why it retired.
    spawned: opt('boolean'),
    retiredReason: opt('string'),
    // Plan approval (issue 13): a Chief of Staff's default.
    reviewPlans: opt('boolean'),
    ...STAMPS,
  },
  Task: {
    title: req('string', { max: LIMITS.title, name: true }),
    priority: req('string', { oneOf: values(TaskPriority) }),
    status: req('string', { oneOf: values(TaskStatus) }),
    attempts: req('integer', { min: 0 }),
    maxAttempts: req('integer', { min: 1 }),
    orchestrated: req('boolean'),
    version: req('integer', { min: 1 }),
    failurePolicy: opt('string', { oneOf: values(FailurePolicy) }),
    decision: opt('string', { oneOf: values(ApprovalDecision) }),
    requiresApproval: opt('boolean'),
    needsPlan: opt('boolean'),
    // Plan approval (issue 13): held plans, the last rejection's reason, the plan's round.
    planApproval: opt('boolean'),
    planFeedback: opt('string'),
    planRound: opt('integer', { min: 0 }),
    removedFromPlan: opt('boolean'),
    // A fork (issue 13): the person's message, and the run it was forked from.
    forkMessage: opt('string'),
    forkedFromRun: opt('string'),
    family: opt('string', { max: 80 }),
    consensusVoters: opt('integer', { min: CONSENSUS_VOTERS.min, upTo: CONSENSUS_VOTERS.max }),
    consensusStrategy: opt('string', { oneOf: values(ConsensusStrategy) }),
    waitingReason: opt('string'),
    description: opt('string'),
    key: opt('string'),
    condition: opt('string'),
    result: opt('string'),
    error: opt('string'),
    createdBy: opt('string'),
    decidedBy: opt('string'),
    decisionComment: opt('string'),
    leaseOwner: opt('string'),
    leaseExpiresAt: opt('datetime'),
    nextAttemptAt: opt('datetime'),
    decidedAt: opt('datetime'),
    orchestratedAt: opt('datetime'),
    ...STAMPS,
  },
  Capability: { name: req('string', { max: LIMITS.name, name: true }), ...STAMPS },
  Conversation: {
    messageCount: req('integer', { min: 0 }),
    title: opt('string', { name: true }),
    summary: opt('string'),
    summaryUpTo: opt('integer', { min: 0 }),
    ...STAMPS,
  },
  Message: {
    kind: req('string', { oneOf: values(MessageKind) }),
    content: req('string'),
    conversationId: req('string'),
    seq: req('integer', { min: 0 }),
    broadcast: opt('boolean'),
    senderUser: opt('string'),
    createdAt: req('datetime'),
  },
  Knowledge: {
    kind: req('string', { oneOf: values(KnowledgeKind) }),
    content: req('string'),
    confidence: opt('number', { min: 0, upTo: 1 }),
    tags: opt('strings', { name: true }),
    tagText: opt('string'),
    // Lessons (issue 12): their lifecycle and scope.
    status: opt('string', { oneOf: ['CANDIDATE', 'ACTIVE', 'RETIRED'] }),
    capability: opt('string'),
    family: opt('string', { max: 80 }),
    strength: opt('integer', { min: 1 }),
    // Skills (issue 12): the plan's steps as JSON, and the capabilities they need.
    steps: opt('string'),
    capabilities: opt('strings'),
    validFrom: opt('datetime'),
    validTo: opt('datetime'),
    ...STAMPS,
  },
  Run: {
    status: req('string'),
    attempt: req('integer', { min: 0 }),
    startedAt: req('datetime'),
    endedAt: opt('datetime'),
    latencyMs: opt('number'),
    worker: opt('string'),
    error: opt('string'),
    ...STAMPS,
  },
  LLMCall: {
    provider: opt('string'),
    model: opt('string'),
    responseModel: opt('string'),
    purpose: opt('string'),
    promptTokens: opt('integer', { min: 0 }),
    cachedPromptTokens: opt('integer', { min: 0 }),
    completionTokens: opt('integer', { min: 0 }),
    totalTokens: opt('integer', { min: 0 }),
    costUsd: opt('number'),
    latencyMs: opt('number'),
    priced: opt('boolean'),
    ...STAMPS,
  },
  Entity: { name: opt('string'), type: opt('string'), createdAt: req('datetime') },
  AgentVersion: {
    version: req('integer', { min: 1 }),
    systemPrompt: opt('string'),
    reason: opt('string'),
    createdAt: req('datetime'),
    // Issue 12: optional, so documents from before versions had statuses still import.
    agentId: opt('string'),
    model: opt('string'),
    temperature: opt('number', { min: 0, upTo: 2 }),
    tools: opt('strings'),
    lessonBudget: opt('integer', { min: 0, upTo: 50 }),
    status: opt('string', { oneOf: values(VersionStatus) }),
    origin: opt('string', { oneOf: values(VersionOrigin) }),
    canaryShare: opt('number', { min: 0, upTo: 1 }),
    updatedAt: opt('datetime'),
  },
};

const CAPABILITY_STATS: Record<string, Rule> = {
  proficiency: opt('number', { min: 0, upTo: 1 }),
  runs: req('integer', { min: 0 }),
  successes: req('integer', { min: 0 }),
  avgLatencyMs: opt('number'),
  avgCostUsd: opt('number'),
  /** Runs with an effective evaluation when they ended, and their scores' sum (issue 12). */
  scored: opt('integer', { min: 0 }),
  scoreSum: opt('number', { min: 0 }),
};

/**
 * Relationship types the platform reads, with the labels they join (and their property rules).
 * Other types are the document's own and may join any two organisation nodes.
 */
/**
 * Properties that hold the id of another node of the organisation. When an import gives a node
 * a new id, these follow it, or lookups by them (messages of a conversation, usage of a task)
 * would find nothing.
 */
export const ID_PROPERTIES: Partial<Record<ExportLabel, readonly string[]>> = {
  Message: ['conversationId'],
  LLMCall: ['runId', 'taskId', 'agentId'],
  AgentVersion: ['agentId'],
  Task: ['forkedFromRun'],
};

export const RELATIONSHIP_RULES: Record<
  string,
  { from: readonly ExportLabel[]; to: readonly ExportLabel[]; properties?: Record<string, Rule> }
> = {
  SUBTASK_OF: { from: ['Task'], to: ['Task'] },
  REJECTED_STEP_OF: { from: ['Task'], to: ['Task'] },
  FORK_OF: { from: ['Task'], to: ['Task'] },
  DEPENDS_ON: { from: ['Task'], to: ['Task'] },
  REQUIRES: { from: ['Task'], to: ['Capability'] },
  ASSIGNED_TO: { from: ['Task'], to: ['Agent'] },
  DELEGATED_BY: { from: ['Task'], to: ['Agent'] },
  HAS_CAPABILITY: { from: ['Agent'], to: ['Capability'], properties: CAPABILITY_STATS },
  OF: { from: ['Run'], to: ['Task'] },
  BY: { from: ['Run'], to: ['Agent'] },
  CALLED: { from: ['Run'], to: ['LLMCall'] },
  SENT: { from: ['Agent'], to: ['Message'] },
  TO: { from: ['Message'], to: ['Agent'] },
  IN: { from: ['Message'], to: ['Conversation'] },
  HAS_VERSION: { from: ['Agent'], to: ['AgentVersion'] },
  EVOLVED_FROM: { from: ['AgentVersion'], to: ['AgentVersion'] },
  USED_VERSION: { from: ['Run'], to: ['AgentVersion'] },
  CONTRIBUTED_BY: { from: ['Knowledge'], to: ['Agent'] },
  SUPERSEDES: { from: ['Knowledge'], to: ['Knowledge'] },
  SPAWNED_BY: { from: ['Agent'], to: ['Agent'] },
};

/**
 * Throws BAD_USER_INPUT when `value` breaks `rule`; bounds go through the API's own validators
 * (requiredText, numberInRange), so their messages read the same.
 */
function checkValue(field: string, rule: Rule, value: EncodedValue | undefined): void {
  const refuse = (problem: string) => {
    throw new BadInputError(`${field} ${problem}`, { field });
  };
  if (value === undefined) {
    if (rule.required) refuse(`is missing (expected ${noun(rule)})`);
    return;
  }
  const got = `, but got ${preview(value)}`;
  const kind = Array.isArray(value) ? 'list' : scalarKind(value);
  if (rule.kind === 'strings') {
    const strings = Array.isArray(value) && value.every((v) => typeof v === 'string');
    if (!strings) refuse(`must be ${noun(rule)}${got}`);
    else if (rule.name) value.forEach((v, i) => plainName(`${field}[${i}]`, v as string));
    return;
  }
  const ok = rule.kind === 'number' ? kind === 'integer' || kind === 'float' : kind === rule.kind;
  if (!ok) refuse(`must be ${noun(rule)}${got}`);
  if (typeof value === 'string') {
    if (rule.oneOf && !rule.oneOf.includes(value)) refuse(`must be ${noun(rule)}${got}`);
    if (rule.max !== undefined) requiredText(field, value, rule.max);
    if (rule.name) plainName(field, value);
  }
  if (rule.min !== undefined || rule.upTo !== undefined) {
    const x = typeof value === 'number' ? value : ((value as { $int?: number }).$int ?? Number.NaN);
    numberInRange(field, x, rule.min ?? -Number.MAX_VALUE, rule.upTo ?? Number.MAX_VALUE);
  }
}

function noun(rule: Rule): string {
  if (rule.oneOf) return `one of ${rule.oneOf.join(', ')}`;
  return {
    string: 'a string',
    boolean: 'a boolean',
    integer: 'an integer ({"$int": n})',
    number: 'a number',
    datetime: 'a date-time ({"$datetime": "<ISO text>"})',
    strings: 'a list of strings',
  }[rule.kind];
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function check(where: string, rules: Record<string, Rule>, props: Record<string, EncodedValue>) {
  for (const [key, rule] of Object.entries(rules)) {
    checkValue(`${where}.properties.${key}`, rule, props[key]);
  }
}

/**
 * Throws BAD_USER_INPUT naming the first node that breaks its label's rules, e.g.
 * `... at nodes[0] (Task "t1"): nodes[0].properties.createdAt is missing (expected a date-time ...)`.
 */
export function checkNodeRules(nodes: readonly ExportedNode[]): void {
  nodes.forEach((node, i) => {
    try {
      check(`nodes[${i}]`, NODE_RULES[node.label], node.properties);
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      throw new BadInputError(
        `The organisation document breaks a domain rule at nodes[${i}] (${node.label} "${node.id}"): ${err.message}`,
        { ...err.details, index: i, id: node.id },
      );
    }
  });
}

/** Throws BAD_USER_INPUT when a relationship the platform reads joins the wrong labels. */
export function checkRelationshipRule(
  index: number,
  rel: ExportedRelationship,
  fromLabel: ExportLabel,
  toLabel: ExportLabel,
): void {
  const rule = RELATIONSHIP_RULES[rel.type];
  if (!rule) return;
  const where = `relationships[${index}]`;
  if (!rule.from.includes(fromLabel) || !rule.to.includes(toLabel)) {
    throw new BadInputError(
      `The organisation document breaks a domain rule at ${where}: ${rel.type} must go from ${rule.from.join('|')} to ${rule.to.join('|')}, but goes from ${fromLabel} "${rel.from}" to ${toLabel} "${rel.to}"`,
      { field: where, index },
    );
  }
  if (rule.properties) {
    try {
      check(where, rule.properties, rel.properties);
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      throw new BadInputError(
        `The organisation document breaks a domain rule at ${where} (${rel.type}): ${err.message}`,
        { ...err.details, index },
      );
    }
  }
}
