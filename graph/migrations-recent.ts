import type { Migration } from './migrations.js';

/** Migrations 22 on (graph/migrations.ts holds those before): append only, like them. */
export const RECENT_MIGRATIONS: Migration[] = [
  {
    id: 22,
    name: 'the READY queue in claim order (issue 15)',
    statements: [
      // A claim reads the oldest READY steps of each priority from these, in order, instead of
      // sorting every READY step (graph/claim.repository.ts): for all tenants, and per tenant
      // for a dedicated worker.
      'CREATE INDEX task_claim_order IF NOT EXISTS FOR (n:Task) ON (n.status, n.priority, n.createdAt)',
      'CREATE INDEX task_tenant_claim_order IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.status, n.priority, n.createdAt)',
    ],
  },
  {
    id: 23,
    name: 'the claim order holds orchestrated steps only (issue 15)',
    statements: [
      // READY tasks no workflow runs (set by hand) came first in the old order, and every claim
      // read past them: `orchestrated` before priority puts them out of the claim's way.
      'CREATE INDEX task_claim_queue IF NOT EXISTS FOR (n:Task) ON (n.status, n.orchestrated, n.priority, n.createdAt)',
      'CREATE INDEX task_tenant_claim_queue IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.status, n.orchestrated, n.priority, n.createdAt)',
      'DROP INDEX task_claim_order IF EXISTS',
      'DROP INDEX task_tenant_claim_order IF EXISTS',
    ],
  },
  {
    id: 24,
    name: 'outside MCP servers and the calls agents make to them (issue 16)',
    statements: [
      'CREATE CONSTRAINT tool_server_id IF NOT EXISTS FOR (n:ToolServer) REQUIRE n.id IS UNIQUE',
      'CREATE CONSTRAINT tool_server_name IF NOT EXISTS FOR (n:ToolServer) REQUIRE (n.tenantId, n.name) IS UNIQUE',
      'CREATE CONSTRAINT tool_call_id IF NOT EXISTS FOR (n:ToolCall) REQUIRE n.id IS UNIQUE',
      'CREATE INDEX tool_call_run IF NOT EXISTS FOR (n:ToolCall) ON (n.tenantId, n.runId)',
    ],
  },
  {
    id: 25,
    name: 'tasks that outside agents sent over A2A (issue 16)',
    statements: [
      'CREATE CONSTRAINT a2a_task_id IF NOT EXISTS FOR (n:A2ATask) REQUIRE n.id IS UNIQUE',
    ],
  },
  {
    id: 26,
    name: "a tenant's tool calls and A2A tasks, found for deleteOrganisation (issue 16)",
    statements: [
      'CREATE INDEX tool_call_tenant IF NOT EXISTS FOR (n:ToolCall) ON (n.tenantId)',
      'CREATE INDEX a2a_task_tenant IF NOT EXISTS FOR (n:A2ATask) ON (n.tenantId)',
    ],
  },
  {
    id: 27,
    name: 'background polls read what is due, not the history (issue 15)',
    statements: [
      // The ingestion claim's per-tenant queue (graph/memory/ingest.repository.ts).
      'CREATE INDEX episode_tenant_status IF NOT EXISTS FOR (n:Episode) ON (n.tenantId, n.status, n.createdAt)',
      // Ended runs not yet reflected on: an index holds no nulls, so `reflectedAt IS NULL`
      // read every ended run; `reflectionDueAt` is set at the end and cleared by reflection.
      'CREATE INDEX run_reflection_due IF NOT EXISTS FOR (n:Run) ON (n.reflectionDueAt)',
      'DROP INDEX run_reflected IF EXISTS',
      // The lifecycle's reviews of every tenant's lessons and skills, and the idle spawned agents.
      'CREATE INDEX knowledge_review IF NOT EXISTS FOR (n:Knowledge) ON (n.kind, n.status)',
      'CREATE INDEX agent_spawned IF NOT EXISTS FOR (n:Agent) ON (n.spawned, n.active, n.createdAt)',
      `MATCH (r:Run) WHERE r.reflectedAt IS NULL AND r.status IN ['SUCCEEDED', 'FAILED']
       CALL (r) { SET r.reflectionDueAt = coalesce(r.endedAt, datetime()) }
       IN TRANSACTIONS OF 10000 ROWS`,
    ],
  },
  {
    id: 28,
    name: 'roots due for the skills pass (issue 15)',
    statements: [
      // Completed roots whose family the skills pass is to look at (graph/skill.repository.ts):
      // it read every COMPLETED task of every tenant each tick.
      'CREATE INDEX task_skill_due IF NOT EXISTS FOR (n:Task) ON (n.skillDueAt)',
      `MATCH (t:Task {status: 'COMPLETED'}) WHERE t.family IS NOT NULL
         AND NOT EXISTS { (t)-[:SUBTASK_OF]->() }
         AND NOT EXISTS { (:Knowledge {kind: 'SKILL'})-[:DERIVED_FROM]->(t) }
       CALL (t) { SET t.skillDueAt = coalesce(t.updatedAt, datetime()) }
       IN TRANSACTIONS OF 10000 ROWS`,
    ],
  },
  {
    id: 29,
    name: "an organisation's export and deletion read only its own nodes (issue 15)",
    // They match each label by tenantId alone, which a (tenantId, …) index does not serve:
    // exporting a tenant of 20 nodes read every Task, Run, … of every tenant.
    statements: [
      ...['Agent', 'Capability', 'Task', 'Conversation', 'Message', 'Knowledge', 'Run'],
      ...['Entity', 'AgentVersion', 'Evaluation', 'Transition', 'Answer', 'Decision'],
      ...['SpawnWatch', 'Checkpoint', 'CheckpointWrite', 'ToolCallRequest'],
    ].map(
      (l) => `CREATE INDEX ${l.toLowerCase()}_tenant IF NOT EXISTS FOR (n:${l}) ON (n.tenantId)`,
    ),
  },
  {
    id: 30,
    name: "an agent's page of messages reads the tenant's newest broadcasts only (issue 15)",
    // Agent.messages read every broadcast since the agent's creation, then sorted them.
    statements: [
      'CREATE INDEX message_tenant_broadcast_created IF NOT EXISTS FOR (m:Message) ON (m.tenantId, m.broadcast, m.createdAt)',
    ],
  },
  {
    id: 31,
    name: "a page of one kind of an agent's messages reads that kind's broadcasts only (issue 15)",
    // The console's chat history (kind CHAT) read every report a chief-less plan broadcast.
    statements: [
      'CREATE INDEX message_tenant_broadcast_kind_created IF NOT EXISTS FOR (m:Message) ON (m.tenantId, m.broadcast, m.kind, m.createdAt)',
    ],
  },
  {
    id: 32,
    name: 'root tasks carry `root`, and the list of them reads those only (issue 15)',
    // tasks(filter: {rootsOnly}) read every step of every plan newer than the page's last root.
    // Set when a task is created without a parent (graph/task.repository.ts, fork, import) and
    // never changed after: the index costs the engine nothing.
    statements: [
      `MATCH (t:Task) WHERE NOT EXISTS { (t)-[:SUBTASK_OF|REJECTED_STEP_OF]->() }
       CALL (t) { SET t.root = true } IN TRANSACTIONS OF 10000 ROWS`,
      'CREATE INDEX task_tenant_root_created IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.root, n.createdAt)',
    ],
  },
  {
    id: 33,
    name: 'episodes of one kind and entities of one type read those only (issue 15)',
    // Their lists read every episode or entity of the tenant to find the few of a kind (those
    // of a status have the ingestion queue's index, migration 27). Written when an episode is
    // made and an entity made or retyped: off the engine's path.
    statements: [
      'CREATE INDEX episode_tenant_kind IF NOT EXISTS FOR (n:Episode) ON (n.tenantId, n.kind)',
      'CREATE INDEX entity_tenant_type IF NOT EXISTS FOR (n:Entity) ON (n.tenantId, n.type)',
    ],
  },
  {
    id: 34,
    name: 'tasks of one priority and messages of one kind read those only (issue 15)',
    // Their lists read every task or message of the tenant to find the few urgent ones or
    // questions. A task's priority changes only when a person updates it; a message's kind
    // never: one entry written with each, the engine's status changes untouched.
    statements: [
      'CREATE INDEX task_tenant_priority IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.priority)',
      'CREATE INDEX message_tenant_kind IF NOT EXISTS FOR (n:Message) ON (n.tenantId, n.kind)',
    ],
  },
  {
    id: 35,
    name: 'agents of one status read those only (issue 15)',
    // The paused or failed agents among many read every agent of the tenant. An agent's status
    // changes when a person pauses or resumes it, or it is retired; never by the engine's steps.
    statements: [
      'CREATE INDEX agent_tenant_status IF NOT EXISTS FOR (n:Agent) ON (n.tenantId, n.status)',
    ],
  },
  {
    id: 36,
    name: 'an agent’s or a capability’s runs over a window from the tenant’s in it (issue 15)',
    // A Chief of Staff's performance over 7 days walked every run it ever made (50,000: 80 ms).
    // Written once, when a run ends.
    statements: [
      'CREATE INDEX run_tenant_ended IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.endedAt)',
    ],
  },
  {
    id: 37,
    name: 'full-text indexes updated after the commit, not in it (issue 15)',
    // A commit that wrote a task, a message, a knowledge item or a memory episode applied the
    // Lucene update and refreshed the index before it returned: 2.5–3.3 ms each, two in every
    // step's end (its result, its episode). Searches wait for what is committed before them
    // (graph/fulltext.ts: fulltextNodes). Each index is rebuilt once: searches fail until it
    // is online, which db.awaitIndexes() at the end of the migrations waits for.
    statements: [
      ['task_text', '(n:Task) ON EACH [n.tenantId, n.title, n.description, n.result]'],
      ['message_text', '(n:Message) ON EACH [n.tenantId, n.content]'],
      ['knowledge_text', '(n:Knowledge) ON EACH [n.tenantId, n.content, n.tagText]'],
      [
        'memory_text',
        '(n:Entity|Fact|Episode) ON EACH [n.tenantId, n.name, n.aliasText, n.summary, n.text, n.content]',
      ],
    ].flatMap(([index, target]) => [
      `DROP INDEX ${index} IF EXISTS`,
      `CREATE FULLTEXT INDEX ${index} IF NOT EXISTS FOR ${target}
       OPTIONS {indexConfig: {\`fulltext.eventually_consistent\`: true}}`,
    ]),
  },
  {
    id: 38,
    name: "a tenant's due runs and roots from its own entries (issue 15)",
    // A worker dedicated to some tenants scanned every tenant's due runs and roots each tick:
    // those of a tenant no worker reflects on stay due for good (4,500 on the bench database:
    // 12,000 db hits a tick). Keyed by tenant first, they are sought per tenant and still
    // scanned whole by a worker of all tenants (graph/engine-scope.ts: scopedDue).
    statements: [
      'CREATE INDEX run_tenant_reflection_due IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.reflectionDueAt)',
      'DROP INDEX run_reflection_due IF EXISTS',
      'CREATE INDEX task_tenant_skill_due IF NOT EXISTS FOR (n:Task) ON (n.tenantId, n.skillDueAt)',
      'DROP INDEX task_skill_due IF EXISTS',
    ],
  },
  {
    id: 39,
    name: 'claims take turns between tenants (issue 15)',
    // A claim for all tenants reads, beside the oldest steps, the queue of the next tenant with
    // READY steps after its cursor: one seek here (graph/claim.repository.ts: fairHead).
    statements: [
      'CREATE INDEX task_ready_tenant IF NOT EXISTS FOR (n:Task) ON (n.status, n.orchestrated, n.tenantId)',
    ],
  },
  {
    id: 40,
    name: "no fact without its subject; deleteOrganisation finds the tenant's facts by index",
    // deleteOrganisation deleted the entities and left their facts, which then failed every
    // read of the tenant's facts; it deletes them now (graph/organisation.repository.ts), by
    // tenantId alone, which migration 29 indexed for the other labels it deletes.
    statements: [
      `MATCH (f:Fact) WHERE NOT EXISTS { (f)-[:SUBJECT]->(:Entity) }
       CALL (f) { DETACH DELETE f } IN TRANSACTIONS OF 10000 ROWS`,
      'CREATE INDEX fact_tenant IF NOT EXISTS FOR (n:Fact) ON (n.tenantId)',
    ],
  },
  {
    id: 41,
    name: 'the documents of one status read those only',
    // The documents list (graph/memory/document.repository.ts: listDocuments) by status.
    statements: [
      'CREATE INDEX document_tenant_status IF NOT EXISTS FOR (n:Document) ON (n.tenantId, n.status, n.createdAt)',
    ],
  },
  {
    id: 42,
    name: 'one document per text of a tenant',
    // The same file uploaded twice made a second document and queued its chunks again; a MERGE
    // on this constraint finds the first (graph/memory/document.repository.ts: mergeDocument).
    // Documents made before it have no contentHash: the constraint leaves them be.
    statements: [
      'CREATE CONSTRAINT document_content IF NOT EXISTS FOR (n:Document) REQUIRE (n.tenantId, n.contentHash) IS UNIQUE',
    ],
  },
];
