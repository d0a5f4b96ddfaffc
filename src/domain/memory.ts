/** Knowledge-graph memory (issue 11): episodes of raw experience, entities, facts in time. */

export enum EpisodeKind {
  RUN_RESULT = 'RUN_RESULT',
  MESSAGE = 'MESSAGE',
  CHAT_TURN = 'CHAT_TURN',
  DOCUMENT_CHUNK = 'DOCUMENT_CHUNK',
  NOTE = 'NOTE',
}

export enum EpisodeStatus {
  PENDING = 'PENDING',
  INGESTING = 'INGESTING',
  INGESTED = 'INGESTED',
  FAILED = 'FAILED',
}

/** Who may recall a memory: one agent, the agents of one task, or the whole tenant. */
export enum MemoryScope {
  AGENT = 'AGENT',
  TASK = 'TASK',
  TENANT = 'TENANT',
}

export interface Episode {
  id: string;
  tenantId: string;
  kind: EpisodeKind;
  /** Idempotence key within the tenant: `run:<id>`, `message:<id>`, `document:<id>#<n>`, `note:<sha>`. */
  sourceKey: string;
  /** Readable origin, e.g. `document "Q3 report" part 3`. */
  source: string;
  content: string;
  /** When the experience happened in the world. */
  occurredAt: string;
  status: EpisodeStatus;
  attempts: number;
  /** Model calls its ingestion made (0 for structured facts). */
  modelCalls: number;
  error: string | null;
  ingestedAt: string | null;
  scope: MemoryScope;
  /** The agent (AGENT) or task (TASK) the memory is private to; null for TENANT. */
  scopeId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Entity {
  id: string;
  tenantId: string;
  name: string;
  /** normaliseName(name): what exact-match resolution compares. */
  normName: string;
  /** An open set: Organisation, Person, Product, Place, Metric, ... */
  type: string;
  summary: string;
  aliases: string[];
  /** The entity this one was merged into, or null while it stands on its own. */
  mergedInto: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A statement about a subject entity: `predicate` with an object entity or a literal `value`.
 * Bi-temporal: validFrom/validUntil is when it held in the world, recordedAt/expiredAt when
 * the platform believed it. Nothing deletes a fact; a contradiction ends it.
 */
export interface Fact {
  id: string;
  tenantId: string;
  subjectId: string;
  predicate: string;
  objectId: string | null;
  value: string;
  text: string;
  confidence: number;
  validFrom: string | null;
  validUntil: string | null;
  recordedAt: string;
  expiredAt: string | null;
  /** The fact that ended this one, when a contradiction did. */
  replacedById: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MemoryDocument {
  id: string;
  tenantId: string;
  title: string;
  mime: string;
  bytes: number;
  chunks: number;
  status: EpisodeStatus;
  /**
   * How many uploads of its text it stands for: 1 for the upload that made it, each later one
   * raises it (under the node's lock, so only the first sees 1).
   */
  uploads: number;
  createdAt: string;
  updatedAt: string;
}

/** The current state of a fact: current, ended in the world, or no longer believed. */
export function isCurrent(fact: Pick<Fact, 'validUntil' | 'expiredAt'>): boolean {
  return fact.validUntil === null && fact.expiredAt === null;
}

/** lower_snake predicate: "Annual Revenue" -> "annual_revenue". */
export function normalisePredicate(predicate: string): string {
  return predicate
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}
