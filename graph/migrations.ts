import { RECENT_MIGRATIONS } from './migrations-recent.js';

/** Every label the platform writes; each gets a uniqueness constraint on `id`. */
export const LABELS = [
  'Agent',
  'Capability',
  'Task',
  'Run',
  'LLMCall',
  'Message',
  'Conversation',
  'Knowledge',
  'Entity',
  'AgentVersion',
  'ApiKey',
  'AuditEvent',
  'Tenant',
  'Episode',
  'Fact',
  'Document',
  'Evaluation',
  'Transition',
  'Answer',
  'Decision',
] as const;

/** Labels whose id constraint came after migration 1 (which is frozen). */
const LATER_LABELS: readonly string[] = [
  'Tenant',
  'Episode',
  'Fact',
  'Document',
  'Evaluation',
  'Transition',
  'Answer',
  'Decision',
];

export interface Migration {
  id: number;
  name: string;
  /** Schema statements; each must be idempotent (IF NOT EXISTS) so a crash mid-way is safe. */
  statements: string[];
}

/** Append only: a migration, once released, never changes. */
export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'unique ids for every label',
    // Frozen: labels added later get their constraint in a later migration.
    statements: LABELS.filter((label) => !LATER_LABELS.includes(label)).map(
      (label) =>
        `CREATE CONSTRAINT ${label.toLowerCase()}_id IF NOT EXISTS FOR (n:${label}) REQUIRE n.id IS UNIQUE`,
    ),
  },
  {
    id: 2,
    name: 'lookup indexes',
    statements: [
      'CREATE CONSTRAINT capability_name IF NOT EXISTS FOR (c:Capability) REQUIRE (c.tenantId, c.name) IS UNIQUE',
      ...['Agent', 'Task', 'Message', 'Knowledge', 'Conversation', 'AuditEvent', 'Run'].map(
        (label) =>
          `CREATE INDEX ${label.toLowerCase()}_tenant_created IF NOT EXISTS FOR (n:${label}) ON (n.tenantId, n.createdAt)`,
      ),
      'CREATE INDEX task_tenant_status IF NOT EXISTS FOR (t:Task) ON (t.tenantId, t.status)',
      'CREATE INDEX agent_tenant_role IF NOT EXISTS FOR (a:Agent) ON (a.tenantId, a.role)',
      'CREATE INDEX agent_tenant_name IF NOT EXISTS FOR (a:Agent) ON (a.tenantId, a.name)',
      'CREATE INDEX knowledge_tenant_kind IF NOT EXISTS FOR (k:Knowledge) ON (k.tenantId, k.kind)',
      'CREATE INDEX apikey_hash IF NOT EXISTS FOR (k:ApiKey) ON (k.hash)',
    ],
  },
  {
    id: 3,
    name: 'full-text indexes',
    statements: [
      'CREATE FULLTEXT INDEX task_text IF NOT EXISTS FOR (t:Task) ON EACH [t.title, t.description, t.result]',
      'CREATE FULLTEXT INDEX message_text IF NOT EXISTS FOR (m:Message) ON EACH [m.content]',
      'CREATE FULLTEXT INDEX knowledge_text IF NOT EXISTS FOR (k:Knowledge) ON EACH [k.content, k.tagText]',
    ],
  },
  {
    id: 4,
    name: 'agent names unique per tenant',
    statements: [
      'DROP INDEX agent_tenant_name IF EXISTS',
      'CREATE CONSTRAINT agent_name IF NOT EXISTS FOR (a:Agent) REQUIRE (a.tenantId, a.name) IS UNIQUE',
    ],
  },
  {
    id: 5,
    name: 'tenants, unique key hashes, audit lookups',
    statements: [
      'CREATE CONSTRAINT tenant_id IF NOT EXISTS FOR (t:Tenant) REQUIRE t.id IS UNIQUE',
      'DROP INDEX apikey_hash IF EXISTS',
      'CREATE CONSTRAINT apikey_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.hash IS UNIQUE',
      'CREATE INDEX auditevent_tenant_operation IF NOT EXISTS FOR (e:AuditEvent) ON (e.tenantId, e.operation)',
    ],
  },
  {
    id: 6,
    name: 'engine lookups across tenants',
    statements: [
      'CREATE INDEX task_status IF NOT EXISTS FOR (t:Task) ON (t.status)',
      'CREATE INDEX run_status IF NOT EXISTS FOR (r:Run) ON (r.status)',
    ],
  },
  {
    id: 7,
    name: 'model call totals by run, task, agent and tenant',
    statements: [
      'CREATE INDEX llmcall_tenant_run IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId, c.runId)',
      'CREATE INDEX llmcall_tenant_task IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId, c.taskId)',
      'CREATE INDEX llmcall_tenant_agent IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId, c.agentId)',
      'CREATE INDEX llmcall_tenant_created IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId, c.createdAt)',
    ],
  },
  {
    id: 8,
    name: 'lists and full-text search bounded by the tenant; the cursor secret',
    statements: [
      // Every order of graph/page.ts ORDERED_LISTS reads a (tenantId, property) index.
      'CREATE INDEX agent_tenant_updated IF NOT EXISTS FOR (n:Agent) ON (n.tenantId, n.updatedAt)',
      'CREATE INDEX task_tenant_updated IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.updatedAt)',
      'CREATE INDEX task_tenant_title IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.title)',
      'CREATE INDEX knowledge_tenant_updated IF NOT EXISTS FOR (n:Knowledge) ON (n.tenantId, n.updatedAt)',
      'CREATE INDEX conversation_tenant_updated IF NOT EXISTS FOR (n:Conversation) ON (n.tenantId, n.updatedAt)',
      'CREATE INDEX apikey_tenant_created IF NOT EXISTS FOR (n:ApiKey) ON (n.tenantId, n.createdAt)',
      // The tenant goes inside the Lucene query (graph/fulltext.ts), so the indexes hold it.
      'DROP INDEX task_text IF EXISTS',
      'CREATE FULLTEXT INDEX task_text IF NOT EXISTS FOR (t:Task) ON EACH [t.tenantId, t.title, t.description, t.result]',
      'DROP INDEX message_text IF EXISTS',
      'CREATE FULLTEXT INDEX message_text IF NOT EXISTS FOR (m:Message) ON EACH [m.tenantId, m.content]',
      'DROP INDEX knowledge_text IF EXISTS',
      'CREATE FULLTEXT INDEX knowledge_text IF NOT EXISTS FOR (k:Knowledge) ON EACH [k.tenantId, k.content, k.tagText]',
      // One (:Secret {name: 'cursor'}) signs page cursors for every API instance.
      'CREATE CONSTRAINT secret_name IF NOT EXISTS FOR (s:Secret) REQUIRE s.name IS UNIQUE',
    ],
  },
  {
    id: 9,
    name: 'the engine limit lock node',
    statements: [
      // Claims under a global limit MERGE one (:EngineLimit) and lock it (claim.repository.ts).
      'CREATE CONSTRAINT engine_limit_scope IF NOT EXISTS FOR (l:EngineLimit) REQUIRE l.scope IS UNIQUE',
    ],
  },
  {
    id: 10,
    name: 'budgets, and the spending they are checked against',
    statements: [
      // One budget per tenant, scope and target: MERGE then locks it (graph/budget.repository.ts).
      'CREATE CONSTRAINT budget_target IF NOT EXISTS FOR (b:Budget) REQUIRE (b.tenantId, b.scope, b.targetId) IS UNIQUE',
      // Checked before every model call: the sums seek the tenant's calls, never all tenants'.
      'CREATE INDEX llmcall_tenant IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId)',
      'CREATE INDEX llmcall_tenant_agent IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId, c.agentId)',
      'CREATE INDEX llmcall_tenant_task IF NOT EXISTS FOR (c:LLMCall) ON (c.tenantId, c.taskId)',
    ],
  },
  {
    id: 11,
    name: 'messages of a conversation by position',
    statements: [
      // A chat turn seeks the window and the messages after its summary (chatContext), so its
      // work stays the same however long the conversation grows.
      'CREATE INDEX message_conversation_seq IF NOT EXISTS FOR (m:Message) ON (m.tenantId, m.conversationId, m.seq)',
    ],
  },
  {
    id: 12,
    name: 'knowledge-graph memory: episodes, entities, facts, documents',
    statements: [
      ...['Episode', 'Fact', 'Document'].map(
        (label) =>
          `CREATE CONSTRAINT ${label.toLowerCase()}_id IF NOT EXISTS FOR (n:${label}) REQUIRE n.id IS UNIQUE`,
      ),
      // Creating an episode twice (a retried step, a re-sent message) MERGEs onto one node.
      'CREATE CONSTRAINT episode_source IF NOT EXISTS FOR (e:Episode) REQUIRE (e.tenantId, e.sourceKey) IS UNIQUE',
      // The ingestion queue claims PENDING episodes across tenants, oldest first.
      'CREATE INDEX episode_status IF NOT EXISTS FOR (e:Episode) ON (e.status, e.createdAt)',
      ...['Episode', 'Entity', 'Fact', 'Document'].flatMap((label) => [
        `CREATE INDEX ${label.toLowerCase()}_tenant_created IF NOT EXISTS FOR (n:${label}) ON (n.tenantId, n.createdAt)`,
        `CREATE INDEX ${label.toLowerCase()}_tenant_updated IF NOT EXISTS FOR (n:${label}) ON (n.tenantId, n.updatedAt)`,
      ]),
      // Exact-match resolution: the tenant's entities with one normalised name.
      'CREATE INDEX entity_tenant_norm IF NOT EXISTS FOR (n:Entity) ON (n.tenantId, n.normName)',
      'CREATE INDEX entity_tenant_name IF NOT EXISTS FOR (n:Entity) ON (n.tenantId, n.name)',
      'CREATE INDEX fact_tenant_predicate IF NOT EXISTS FOR (n:Fact) ON (n.tenantId, n.predicate)',
      // BM25 over all memory, the tenant inside the Lucene query (graph/fulltext.ts).
      'CREATE FULLTEXT INDEX memory_text IF NOT EXISTS FOR (n:Entity|Fact|Episode) ON EACH [n.tenantId, n.name, n.aliasText, n.summary, n.text, n.content]',
    ],
  },
  {
    id: 13,
    name: 'episode retention rules',
    statements: [
      'CREATE CONSTRAINT retention_rule IF NOT EXISTS FOR (r:RetentionRule) REQUIRE (r.tenantId, r.kind) IS UNIQUE',
    ],
  },
  {
    id: 14,
    name: 'evaluations and transitions (issue 12)',
    statements: [
      ...['Evaluation', 'Transition'].map(
        (label) =>
          `CREATE CONSTRAINT ${label.toLowerCase()}_id IF NOT EXISTS FOR (n:${label}) REQUIRE n.id IS UNIQUE`,
      ),
      'CREATE INDEX evaluation_tenant_created IF NOT EXISTS FOR (n:Evaluation) ON (n.tenantId, n.createdAt)',
      'CREATE INDEX transition_subject IF NOT EXISTS FOR (n:Transition) ON (n.tenantId, n.subjectId)',
    ],
  },
  {
    id: 15,
    name: 'agent versions (issue 12)',
    statements: [
      // An agent's versions by status (its LIVE one, its CANDIDATE), and the canary's scan.
      'CREATE INDEX agent_version_agent IF NOT EXISTS FOR (n:AgentVersion) ON (n.tenantId, n.agentId, n.status)',
      'CREATE INDEX agent_version_status IF NOT EXISTS FOR (n:AgentVersion) ON (n.status)',
    ],
  },
  {
    id: 16,
    name: 'task families and lessons (issue 12)',
    statements: [
      'CREATE INDEX task_family IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.family)',
      'CREATE INDEX knowledge_kind_status IF NOT EXISTS FOR (n:Knowledge) ON (n.tenantId, n.kind, n.status)',
      'CREATE INDEX run_reflected IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.reflectedAt)',
    ],
  },
  {
    id: 17,
    name: 'skills by family, spawning watches (issue 12)',
    statements: [
      'CREATE INDEX knowledge_tenant_kind_family IF NOT EXISTS FOR (n:Knowledge) ON (n.tenantId, n.kind, n.family)',
      // One watch per (tenant, capability): the backlog's start and the last spawn for it.
      'CREATE CONSTRAINT spawn_watch IF NOT EXISTS FOR (w:SpawnWatch) REQUIRE (w.tenantId, w.capability) IS UNIQUE',
    ],
  },
  {
    id: 18,
    name: 'consensus answers and decisions (issue 12)',
    statements: [
      ...['Answer', 'Decision'].map(
        (label) =>
          `CREATE CONSTRAINT ${label.toLowerCase()}_id IF NOT EXISTS FOR (n:${label}) REQUIRE n.id IS UNIQUE`,
      ),
      'CREATE INDEX answer_tenant_run IF NOT EXISTS FOR (n:Answer) ON (n.tenantId, n.runId)',
      'CREATE INDEX decision_tenant_run IF NOT EXISTS FOR (n:Decision) ON (n.tenantId, n.runId)',
    ],
  },
  {
    id: 19,
    name: 'agent loop checkpoints (issue 13)',
    statements: [
      'CREATE CONSTRAINT checkpoint_id IF NOT EXISTS FOR (n:Checkpoint) REQUIRE n.id IS UNIQUE',
      'CREATE CONSTRAINT checkpoint_write_id IF NOT EXISTS FOR (n:CheckpointWrite) REQUIRE n.id IS UNIQUE',
      // One checkpoint per (tenant, thread, namespace, checkpoint id): what put MERGEs on, and
      // the index that reads a thread's checkpoints newest first.
      'CREATE CONSTRAINT checkpoint_key IF NOT EXISTS FOR (n:Checkpoint) REQUIRE (n.tenantId, n.threadId, n.ns, n.checkpointId) IS UNIQUE',
      // One pending write per (checkpoint, task, idx): putWrites MERGEs on it (idempotent).
      'CREATE CONSTRAINT checkpoint_write_key IF NOT EXISTS FOR (n:CheckpointWrite) REQUIRE (n.tenantId, n.threadId, n.ns, n.checkpointId, n.taskId, n.idx) IS UNIQUE',
      // The retention sweep's scan by age.
      'CREATE INDEX checkpoint_created IF NOT EXISTS FOR (n:Checkpoint) ON (n.createdAt)',
    ],
  },
  {
    id: 20,
    name: 'tool approval policies and held tool calls (issue 13)',
    statements: [
      'CREATE CONSTRAINT tool_policy_key IF NOT EXISTS FOR (n:ToolPolicy) REQUIRE (n.tenantId, n.tool) IS UNIQUE',
      'CREATE CONSTRAINT tool_call_request_id IF NOT EXISTS FOR (n:ToolCallRequest) REQUIRE n.id IS UNIQUE',
      'CREATE INDEX tool_call_request_task IF NOT EXISTS FOR (n:ToolCallRequest) ON (n.tenantId, n.taskId)',
    ],
  },
  {
    id: 21,
    name: 'the event outbox and the process registry (issue 14)',
    statements: [
      'CREATE CONSTRAINT outbox_event_id IF NOT EXISTS FOR (n:OutboxEvent) REQUIRE n.id IS UNIQUE',
      // The relay's scan for lapsed claims, and the expiry's by age.
      'CREATE INDEX outbox_event_claim IF NOT EXISTS FOR (n:OutboxEvent) ON (n.claimUntil)',
      'CREATE INDEX outbox_event_at IF NOT EXISTS FOR (n:OutboxEvent) ON (n.at)',
      // The processes running against this database, and their event bus.
      'CREATE CONSTRAINT instance_id IF NOT EXISTS FOR (n:Instance) REQUIRE n.id IS UNIQUE',
    ],
  },
  ...RECENT_MIGRATIONS,
];
