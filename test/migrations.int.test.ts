import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { migrate } from '../graph/migrate.js';
import { MIGRATIONS } from '../graph/migrations.js';

describe('migrations', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(() => graph.close());

  it('run once: a second run applies nothing', async () => {
    expect(await migrate(graph, () => {})).toEqual([]);
    const recorded = await graph.read((tx) =>
      tx.run<{ id: number }>({ cypher: 'MATCH (m:Migration) RETURN m.id AS id ORDER BY id' }),
    );
    expect(recorded.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
  });

  it('make id unique for every label', async () => {
    // Written out, not read from graph/migrations.ts: a label dropped from the migration's own
    // list would otherwise drop out of this expectation with it.
    const labels = [
      'A2ATask',
      'Agent',
      'AgentVersion',
      'Answer',
      'ApiKey',
      'AuditEvent',
      'Capability',
      'Checkpoint',
      'CheckpointWrite',
      'Conversation',
      'Decision',
      'Document',
      'Entity',
      'Episode',
      'Evaluation',
      'Fact',
      'Instance',
      'Knowledge',
      'LLMCall',
      'Message',
      'OutboxEvent',
      'Run',
      'Task',
      'Tenant',
      'ToolCall',
      'ToolCallRequest',
      'ToolServer',
      'Transition',
    ];
    const rows = await graph.read((tx) =>
      tx.run<{ labels: string[]; props: string[] }>({
        cypher:
          "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type WHERE type = 'UNIQUENESS' RETURN labelsOrTypes AS labels, properties AS props",
      }),
    );
    const unique = rows
      .filter((r) => r.props.length === 1 && r.props[0] === 'id')
      .map((r) => r.labels[0]);
    expect(unique.sort()).toEqual(labels);
  });

  it('create the full-text indexes for tasks, messages and knowledge', async () => {
    const rows = await graph.read((tx) =>
      tx.run<{ name: string; state: string }>({
        cypher: 'SHOW FULLTEXT INDEXES YIELD name, state RETURN name, state ORDER BY name',
      }),
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { name: 'knowledge_text', state: 'ONLINE' },
        { name: 'message_text', state: 'ONLINE' },
        { name: 'task_text', state: 'ONLINE' },
      ]),
    );
  });

  it('mark the ended runs of an older database that reflection has not taken as due', async () => {
    const tenantId = `migration-${randomUUID()}`;
    const runs = [
      { name: 'ended', status: 'SUCCEEDED', reflected: false },
      { name: 'failed', status: 'FAILED', reflected: false },
      { name: 'reflected', status: 'SUCCEEDED', reflected: true },
      { name: 'running', status: 'RUNNING', reflected: false },
    ];
    await graph.write((tx) =>
      tx.run({
        cypher: `UNWIND $runs AS x
                 CREATE (:Run {id: randomUUID(), tenantId: $tenantId, name: x.name, status: x.status,
                   endedAt: CASE WHEN x.status <> 'RUNNING' THEN datetime() END,
                   reflectedAt: CASE WHEN x.reflected THEN datetime() END})`,
        params: { tenantId, runs },
      }),
    );
    try {
      const due = MIGRATIONS.find((m) => m.id === 27)!.statements.find((s) => /SET/.test(s))!;
      await graph.schema(due);
      const marked = await graph.read((tx) =>
        tx.run<{ name: string }>({
          cypher: `MATCH (r:Run {tenantId: $tenantId}) WHERE r.reflectionDueAt = r.endedAt
                   RETURN r.name AS name ORDER BY name`,
          params: { tenantId },
        }),
      );
      expect(marked.map((r) => r.name)).toEqual(['ended', 'failed']);
    } finally {
      await graph.write((tx) =>
        tx.run({ cypher: 'MATCH (r:Run {tenantId: $tenantId}) DELETE r', params: { tenantId } }),
      );
    }
  });

  it('delete the facts that deleteOrganisation left without their subject', async () => {
    const tenantId = `migration-${randomUUID()}`;
    await graph.write((tx) =>
      tx.run({
        cypher: `CREATE (:Fact {id: randomUUID(), tenantId: $tenantId, predicate: 'left'})
                 CREATE (:Fact {id: randomUUID(), tenantId: $tenantId, predicate: 'kept'})
                        -[:SUBJECT]->(:Entity {id: randomUUID(), tenantId: $tenantId})`,
        params: { tenantId },
      }),
    );
    try {
      await graph.schema(MIGRATIONS.find((m) => m.id === 40)!.statements[0]!);
      const facts = await graph.read((tx) =>
        tx.run<{ predicate: string }>({
          cypher: 'MATCH (f:Fact {tenantId: $tenantId}) RETURN f.predicate AS predicate',
          params: { tenantId },
        }),
      );
      expect(facts.map((f) => f.predicate)).toEqual(['kept']);
    } finally {
      await graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (n {tenantId: $tenantId}) WHERE n:Fact OR n:Entity DETACH DELETE n',
          params: { tenantId },
        }),
      );
    }
  });

  it('mark the completed roots of an older database as due for the skills pass', async () => {
    const tenantId = `migration-${randomUUID()}`;
    await graph.write((tx) =>
      tx.run({
        cypher: `CREATE (root:Task {id: randomUUID(), tenantId: $tenantId, title: 'root',
                   family: 'f', status: 'COMPLETED', updatedAt: datetime()})
                 CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'step', family: 'f',
                   status: 'COMPLETED', updatedAt: datetime()})-[:SUBTASK_OF]->(root)
                 CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'drawn', family: 'f',
                   status: 'COMPLETED', updatedAt: datetime()})
                   <-[:DERIVED_FROM]-(:Knowledge {id: randomUUID(), tenantId: $tenantId, kind: 'SKILL'})
                 CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'failed', family: 'f',
                   status: 'FAILED', updatedAt: datetime()})`,
        params: { tenantId },
      }),
    );
    try {
      const due = MIGRATIONS.find((m) => m.id === 28)!.statements.find((s) => /SET/.test(s))!;
      await graph.schema(due);
      const marked = await graph.read((tx) =>
        tx.run<{ title: string }>({
          cypher: `MATCH (t:Task {tenantId: $tenantId}) WHERE t.skillDueAt = t.updatedAt
                   RETURN t.title AS title`,
          params: { tenantId },
        }),
      );
      expect(marked.map((r) => r.title)).toEqual(['root']);
    } finally {
      await graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (n {tenantId: $tenantId}) WHERE n:Task OR n:Knowledge DETACH DELETE n',
          params: { tenantId },
        }),
      );
    }
  });
});
