import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { OrganisationDocument } from '../../src/domain/organisation-export.js';
import { startTestServer, type TestServer } from './server.js';

/*
 * The organisation export and import suites' fixtures: their operations, an organisation of
 * every node kind built through the API and Cypher, and the calls and reads they check it with.
 */

export const ExportOrganisation = graphql(`
  query ExportOrganisation {
    exportOrganisation
  }
`);

export const ImportOrganisation = graphql(`
  mutation ImportOrganisation($document: JSONObject!, $merge: Boolean) {
    importOrganisation(document: $document, merge: $merge) {
      nodesCreated
      nodesUpdated
      relationshipsCreated
      nodeIds
    }
  }
`);

export const DeleteOrganisation = graphql(`
  mutation DeleteOrganisation($confirm: String!) {
    deleteOrganisation(confirm: $confirm) {
      nodesDeleted
    }
  }
`);

export const OrgCreateAgents = graphql(`
  mutation OrgCreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

export const OrgCreateTasks = graphql(`
  mutation OrgCreateTasks($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
      title
    }
  }
`);

export const OrgSendMessage = graphql(`
  mutation OrgSendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      id
      conversation {
        id
      }
    }
  }
`);

export const OrgRecordKnowledge = graphql(`
  mutation OrgRecordKnowledge($input: RecordKnowledgeInput!) {
    recordKnowledge(input: $input) {
      id
    }
  }
`);

export type Doc = OrganisationDocument;

export const createdAt = { $datetime: '2024-05-01T10:20:30Z' };

export async function exportOf(server: TestServer): Promise<Doc> {
  const res = await server.gql(ExportOrganisation);
  expect(res.errors).toBeUndefined();
  return res.data!.exportOrganisation as Doc;
}

export async function importInto(server: TestServer, document: unknown, merge?: boolean) {
  return server.gql(ImportOrganisation, { document, merge });
}

export function codeOf(res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) {
  return res.errors?.[0]?.extensions?.code;
}

export function messageOf(res: { errors?: readonly { message: string }[] }) {
  return res.errors?.[0]?.message ?? '';
}

/** An agents-tasks-messages-knowledge organisation built through the API, plus runs by Cypher. */
export async function buildOrganisation(server: TestServer) {
  const agents = await server.gql(OrgCreateAgents, {
    inputs: [
      { name: 'Chief', role: 'CHIEF_OF_STAFF', capabilities: [{ name: 'planning' }] },
      {
        name: 'Researcher',
        role: 'MASTER_OPERATOR',
        model: 'offline',
        capabilities: [{ name: 'research', proficiency: 0.9 }, { name: 'writing' }],
      },
      { name: 'Writer', role: 'MASTER_OPERATOR', capabilities: [{ name: 'writing' }] },
    ],
  });
  expect(agents.errors).toBeUndefined();
  const [chief, researcher, writer] = agents.data!.createAgents;

  const tasks = await server.gql(OrgCreateTasks, {
    inputs: [
      { key: 'launch', title: 'Launch', description: 'the whole thing', priority: 'HIGH' },
      {
        key: 'research',
        parentKey: 'launch',
        title: 'Research',
        requiredCapabilities: ['research'],
        assigneeId: researcher!.id,
        delegatedById: chief!.id,
      },
      {
        key: 'write',
        parentKey: 'launch',
        title: 'Write',
        dependsOnKeys: ['research'],
        requiredCapabilities: ['writing'],
        assigneeId: writer!.id,
      },
    ],
  });
  expect(tasks.errors).toBeUndefined();
  const [launch, research] = tasks.data!.createTasks;

  const first = await server.gql(OrgSendMessage, {
    input: {
      content: 'Please start the research',
      fromAgentId: chief!.id,
      toAgentIds: [researcher!.id],
      aboutTaskId: research!.id,
      conversationTitle: 'Launch planning',
    },
  });
  expect(first.errors).toBeUndefined();
  const reply = await server.gql(OrgSendMessage, {
    input: {
      content: 'On it',
      fromAgentId: researcher!.id,
      toAgentIds: [chief!.id],
      conversationId: first.data!.sendMessage.conversation.id,
    },
  });
  expect(reply.errors).toBeUndefined();

  const fact = await server.gql(OrgRecordKnowledge, {
    input: {
      content: 'Launches go better with a checklist',
      kind: 'LESSON',
      confidence: 0.8,
      tags: ['launch', 'process'],
      agentId: researcher!.id,
      taskId: research!.id,
    },
  });
  expect(fact.errors).toBeUndefined();
  const better = await server.gql(OrgRecordKnowledge, {
    input: {
      content: 'Launches go better with a checklist and a dry run',
      supersedesId: fact.data!.recordKnowledge.id,
      agentId: chief!.id,
    },
  });
  expect(better.errors).toBeUndefined();

  // Kinds without mutations yet, with every value kind the format carries.
  await server.graph.write((tx) =>
    tx.run({
      cypher: `
        MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId}),
              (k:Knowledge {tenantId: $tenantId, id: $knowledgeId})
        CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'SUCCEEDED', attempt: 1,
                       startedAt: datetime('2024-05-01T10:20:30.123456789Z'),
                       endedAt: datetime('2024-05-01T12:20:30.5+02:00[Europe/Paris]'),
                       createdAt: datetime(), updatedAt: datetime()})
        CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)
        CREATE (r)-[:CALLED {order: 1}]->(:LLMCall {id: randomUUID(), tenantId: $tenantId,
                 provider: 'offline', model: 'offline-1', purpose: 'plan', promptTokens: 120,
                 completionTokens: 30, costUsd: 0.0, latencyMs: 12.5, big: 9007199254740991,
                 negative: -42, ratio: 0.0 / 0.0, ceiling: 1.0 / 0.0, floor: -1.0 / 0.0,
                 samples: [1, 2, 3], weights: [0.5, 1.0], flags: [true, false], empty: [],
                 seen: [datetime('2024-01-01T00:00:00-05:30'), datetime('+12345-01-01T00:00:00Z')],
                 createdAt: datetime(), updatedAt: datetime()})
        CREATE (k)-[:MENTIONS]->(:Entity {id: randomUUID(), tenantId: $tenantId, name: 'checklist',
                 type: 'CONCEPT', createdAt: datetime()})
        CREATE (k)-[:APPLIED_IN]->(r)
        CREATE (a)-[:HAS_VERSION]->(v1:AgentVersion {id: randomUUID(), tenantId: $tenantId,
                 version: 1, systemPrompt: 'You research.', reason: 'created', createdAt: datetime()})
        CREATE (a)-[:HAS_VERSION]->(v2:AgentVersion {id: randomUUID(), tenantId: $tenantId,
                 version: 2, systemPrompt: 'You research carefully.', reason: 'lessons',
                 createdAt: datetime()})-[:EVOLVED_FROM {at: datetime()}]->(v1)
        // Not part of an organisation: never exported, never deleted by deleteOrganisation.
        CREATE (:AuditEvent {id: randomUUID(), tenantId: $tenantId, operation: 'seed'})-[:ABOUT]->(a)`,
      params: {
        tenantId: server.tenantId,
        taskId: research!.id,
        agentId: researcher!.id,
        knowledgeId: better.data!.recordKnowledge.id,
      },
    }),
  );
  return { chief: chief!, researcher: researcher!, launch: launch!, research: research! };
}

export async function auditEvents(server: TestServer): Promise<number> {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: "MATCH (e:AuditEvent {tenantId: $tenantId, operation: 'seed'}) RETURN count(e) AS n",
      params: { tenantId: server.tenantId },
    }),
  );
  return row!.n;
}

/**
 * A server with buildOrganisation's organisation and another with one agent, and their exports:
 * the fixture of the export and import suites.
 */
export async function startOrganisationPair() {
  const server = await startTestServer();
  const other = await startTestServer();
  const org = await buildOrganisation(server);
  const res = await other.gql(OrgCreateAgents, {
    inputs: [{ name: 'Chief', role: 'CHIEF_OF_STAFF', capabilities: [{ name: 'planning' }] }],
  });
  expect(res.errors).toBeUndefined();
  const original = await exportOf(server);
  const otherOriginal = await exportOf(other);
  return { server, other, org, original, otherOriginal };
}
