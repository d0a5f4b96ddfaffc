import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { OrganisationDocument } from '../../src/domain/organisation-export.js';
import { holdForInput } from '../../graph/tool-approval.repository.js';
import type { TestServer } from './server.js';
import { seedSkillAndSpawn } from './skill-fixtures.js';
import { seedConsensus, seedEvaluations, seedMemory } from './memory-fixtures.js';
import { seedVersions } from './version-fixtures.js';
import { seedLesson } from './lesson-fixtures.js';
import type { Fixtures } from './tenancy-probes.js';

/*
 * The cross-tenant matrix's fixtures (tenancy.int.test.ts): the operations both tenants use,
 * one node of every kind seeded per tenant, and a snapshot of what the victim owns.
 */

export const TenancyCreateAgents = graphql(`
  mutation TenancyCreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
    }
  }
`);

export const TenancyCreateTasks = graphql(`
  mutation TenancyCreateTasks($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
    }
  }
`);

export const TenancySendMessage = graphql(`
  mutation TenancySendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      id
      conversation {
        id
      }
    }
  }
`);

export const TenancyRecordKnowledge = graphql(`
  mutation TenancyRecordKnowledge($input: RecordKnowledgeInput!) {
    recordKnowledge(input: $input) {
      id
    }
  }
`);

export const TenancyCreateApiKey = graphql(`
  mutation TenancyCreateApiKey($name: String!, $role: Role!) {
    createApiKey(name: $name, role: $role) {
      apiKey {
        id
      }
    }
  }
`);

export const TenancyCreateConversation = graphql(`
  mutation TenancyCreateConversation($title: String) {
    createConversation(title: $title) {
      id
    }
  }
`);

export const TenancyExport = graphql(`
  query TenancyExport {
    exportOrganisation
  }
`);

export const TenancyApiKeys = graphql(`
  query TenancyApiKeys {
    apiKeys(first: 100) {
      nodes {
        id
        name
        role
        prefix
        createdAt
        revokedAt
      }
    }
  }
`);

export const TenancyNode = graphql(`
  query TenancyNode($id: ID!) {
    node(id: $id) {
      id
    }
  }
`);

export const TenancyImport = graphql(`
  mutation TenancyImport($document: JSONObject!, $merge: Boolean) {
    importOrganisation(document: $document, merge: $merge) {
      nodesCreated
    }
  }
`);

export const TenancySetAgentStatus = graphql(`
  mutation TenancySetAgentStatus($id: ID!, $status: AgentStatus!) {
    setAgentStatus(id: $id, status: $status) {
      id
    }
  }
`);

export const TenancyUpdateTask = graphql(`
  mutation TenancyUpdateTask($id: ID!, $input: UpdateTaskInput!) {
    updateTask(id: $id, input: $input) {
      id
    }
  }
`);

export const TenancyAgentStatusChanged = graphql(`
  subscription TenancyAgentStatusChanged($agentId: ID) {
    agentStatusChanged(agentId: $agentId) {
      agent {
        id
        name
      }
    }
  }
`);

export const TenancyTaskUpdated = graphql(`
  subscription TenancyTaskUpdated($rootId: ID, $taskId: ID) {
    taskUpdated(rootId: $rootId, taskId: $taskId) {
      task {
        id
        title
      }
      change
    }
  }
`);

export const TenancyMessageSent = graphql(`
  subscription TenancyMessageSent($conversationId: ID, $agentId: ID) {
    messageSent(conversationId: $conversationId, agentId: $agentId) {
      id
      content
    }
  }
`);

/** What the victim owns, compared before and after the walk. */
export interface TenantSnapshot {
  doc: OrganisationDocument;
  keys: unknown;
  nodes: number;
  audit: number;
  links: number;
  foreignLinks: number;
}

/**
 * Seeds one tenant's fixtures through `server` as `headers`, filling `ids` and `alternates`
 * (a second id of each kind); returns the ids that the export leaves out (consensus runs,
 * decisions, answers, judged runs and evaluations).
 */
export async function seedTenant(
  server: TestServer,
  headers: Record<string, string>,
  label: string,
  ids: Fixtures,
  alternates: Fixtures,
  tenantId: string,
): Promise<string[]> {
  const gql: TestServer['gql'] = (doc, variables) => server.gql(doc, variables, headers);
  const agents = await gql(TenancyCreateAgents, {
    inputs: [
      {
        name: `${label} chief`,
        description: `${label} plans`,
        role: 'CHIEF_OF_STAFF',
        systemPrompt: `${label} prompt`,
        capabilities: [{ name: `${label.replace(/ /g, '-')}-planning` }],
      },
      {
        name: `${label} operator`,
        role: 'MASTER_OPERATOR',
        model: 'offline',
        capabilities: [{ name: `${label.replace(/ /g, '-')}-research`, proficiency: 0.9 }],
      },
    ],
  });
  expect(agents.errors).toBeUndefined();
  const [chief, operator] = agents.data!.createAgents.map((a) => a.id);
  const tasks = await gql(TenancyCreateTasks, {
    inputs: [
      { key: 'root', title: `${label} launch`, description: `${label} the whole plan` },
      {
        key: 'sub',
        parentKey: 'root',
        title: `${label} research`,
        assigneeId: operator,
        delegatedById: chief,
        requiredCapabilities: [`${label.replace(/ /g, '-')}-research`],
      },
      { key: 'dep', parentKey: 'root', title: `${label} write-up`, dependsOnKeys: ['sub'] },
    ],
  });
  expect(tasks.errors).toBeUndefined();
  const [root, sub, dep] = tasks.data!.createTasks.map((t) => t.id);
  const first = await gql(TenancySendMessage, {
    input: {
      content: `${label} please research`,
      fromAgentId: chief,
      toAgentIds: [operator!],
      aboutTaskId: sub,
      conversationTitle: `${label} conversation`,
    },
  });
  expect(first.errors).toBeUndefined();
  const conversation = first.data!.sendMessage.conversation.id;
  const reply = await gql(TenancySendMessage, {
    input: {
      content: `${label} research done`,
      fromAgentId: operator,
      toAgentIds: [chief!],
      conversationId: conversation,
    },
  });
  expect(reply.errors).toBeUndefined();
  const fact = await gql(TenancyRecordKnowledge, {
    input: {
      content: `${label} learned a fact`,
      tags: [`${label.replace(/ /g, '-')}-tag`],
      agentId: operator,
      taskId: sub,
    },
  });
  expect(fact.errors).toBeUndefined();
  const lesson = await gql(TenancyRecordKnowledge, {
    input: {
      content: `${label} learned a lesson`,
      kind: 'LESSON',
      agentId: chief,
      taskId: root,
      supersedesId: fact.data!.recordKnowledge.id,
    },
  });
  expect(lesson.errors).toBeUndefined();
  const empty = await gql(TenancyCreateConversation, { title: `${label} empty conversation` });
  expect(empty.errors).toBeUndefined();
  // Memory, written as ingestion would (ingested already, so nothing changes it meanwhile).
  const memory = await seedMemory(server.graph, tenantId, label, operator!);
  // A skill and a spawned agent (issue 12): skills(family) and Agent.spawnedBy must not leak.
  await seedSkillAndSpawn(server.graph, tenantId, label, root!, operator!, chief!);
  // A consensus step's answers and decision (issue 12): their text and ids must not leak.
  const consensus = await seedConsensus(server.graph, tenantId, label, sub!, [operator!, chief!]);
  const consensusIds = [consensus.run, consensus.decision, ...consensus.answers];
  // Judged runs and a person's rating (issue 12): not in the export, so listed apart.
  const judged = await seedEvaluations(server.graph, tenantId, label, sub!, operator!);
  const evaluationIds = [...judged.runs, ...judged.evaluations];
  // A tool call held for a person (issue 13), under the call id the walk sends for every
  // String: resolveToolCall with the victim's run id reaches it unless tenancy stops it.
  await server.graph.write((tx) =>
    holdForInput(tx, {
      tenantId,
      taskId: sub!,
      runId: judged.runs[0]!,
      calls: [
        {
          callId: 'tenancy probe',
          tool: 'ask_agent',
          args: JSON.stringify({ question: `${label} held question` }),
        },
      ],
    }),
  );
  // Two agent-loop checkpoints of that run (issue 13): forkRun and Run.checkpoints must not
  // reach them from another tenant.
  const checkpoints = [randomUUID(), randomUUID()];
  await server.graph.write((tx) =>
    tx.run({
      cypher: `
        MATCH (r:Run {tenantId: $tenantId, id: $runId})
        UNWIND range(0, size($ids) - 1) AS i
        CREATE (r)-[:CHECKPOINTED]->(:Checkpoint {id: $ids[i], tenantId: $tenantId,
          threadId: $taskId, ns: '', checkpointId: 'checkpoint-' + i, step: i, source: 'loop',
          next: ['model_request'], messageCount: 1, bytes: 0, createdAt: datetime()})`,
      params: { tenantId, runId: judged.runs[0], taskId: sub, ids: checkpoints },
    }),
  );
  // An ACTIVE lesson drawn from one judged run and applied in the other (issue 12): its text,
  // efficacy, derivedFrom and transitions must not leak; retire/activateLesson refuse it.
  await seedLesson(server.graph, tenantId, label, judged.runs);
  // Agent versions (issue 12): a candidate to promote or roll back, a live one.
  const versions = await seedVersions(server.graph, tenantId, label, operator!, chief!);
  const key = await gql(TenancyCreateApiKey, { name: `${label} viewer key`, role: 'VIEWER' });
  expect(key.errors).toBeUndefined();
  const otherKey = await gql(TenancyCreateApiKey, {
    name: `${label} operator key`,
    role: 'OPERATOR',
  });
  expect(otherKey.errors).toBeUndefined();
  Object.assign(alternates, {
    agent: chief!,
    task: dep!,
    subtask: dep!,
    message: reply.data!.sendMessage.id,
    conversation: empty.data!.createConversation.id,
    knowledge: lesson.data!.recordKnowledge.id,
    apiKey: otherKey.data!.createApiKey.apiKey.id,
    run: judged.runs[1],
    checkpoint: checkpoints[1]!,
    ...versions.alternates,
    ...memory.alternates,
  } satisfies Fixtures);
  Object.assign(ids, {
    agent: operator!,
    task: root!,
    subtask: sub!,
    message: first.data!.sendMessage.id,
    conversation,
    knowledge: fact.data!.recordKnowledge.id,
    apiKey: key.data!.createApiKey.apiKey.id,
    run: judged.runs[0],
    checkpoint: checkpoints[0]!,
    ...versions.ids,
    ...memory.ids,
  } satisfies Fixtures);
  return [...consensusIds, ...evaluationIds];
}

export async function snapshotTenant(victim: TestServer): Promise<TenantSnapshot> {
  const [doc, keys, [counts]] = await Promise.all([
    victim.gql(TenancyExport),
    victim.gql(TenancyApiKeys),
    victim.graph.read((tx) =>
      tx.run<{ nodes: number; audit: number; links: number; foreignLinks: number }>({
        cypher: `MATCH (n {tenantId: $tenantId})
               WITH count(CASE WHEN NOT n:AuditEvent THEN 1 END) AS nodes,
                    count(CASE WHEN n:AuditEvent THEN 1 END) AS audit
               OPTIONAL MATCH (v {tenantId: $tenantId})-[r]-(m)
               WHERE NOT v:AuditEvent
               RETURN nodes, audit, count(DISTINCT r) AS links,
                      count(DISTINCT CASE WHEN m.tenantId <> $tenantId THEN r END) AS foreignLinks`,
        params: { tenantId: victim.tenantId },
      }),
    ),
  ]);
  expect(doc.errors).toBeUndefined();
  expect(keys.errors).toBeUndefined();
  return {
    doc: doc.data!.exportOrganisation as OrganisationDocument,
    // lastUsedAt is left out: the victim's own snapshots may touch its admin key.
    keys: keys.data!.apiKeys.nodes,
    nodes: counts!.nodes,
    audit: counts!.audit,
    // Relationships touching the victim's nodes, and those that cross to another tenant.
    links: counts!.links,
    foreignLinks: counts!.foreignLinks,
  };
}
