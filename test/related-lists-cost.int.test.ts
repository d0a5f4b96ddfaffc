import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { listKnowledge } from '../graph/knowledge.repository.js';
import { listEpisodes } from '../graph/memory/episode.repository.js';
import { listTasks } from '../graph/task.repository.js';
import { createPlan } from './utils/engine-steps.js';
import { expectWorkUnchanged, profiler, shown } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Rows of each label the tenant gains between the two measures. */
const MORE = 300;

/**
 * A list filtered by the one node its rows hang from (a parent's steps, what a task taught, a
 * document's chunks) read the tenant's rows in list order and kept that node's: one with fewer
 * rows than the page read every row of the tenant. Each is now walked from that node
 * (graph/page-direct.ts: walkFrom), so its work is the node's rows whatever the tenant holds.
 */
describe('a list of one node’s rows costs its rows, not the tenant’s', () => {
  let server: TestServer;
  const prof = profiler();
  let rootId = '';
  let documentId = '';
  const newest = { property: 'createdAt' as const, descending: true };
  const page = { first: 20, total: true };

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    steps: (tx) =>
      listTasks(tx, server.tenantId, { parentId: rootId }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
    knowledge: (tx) =>
      listKnowledge(tx, server.tenantId, { taskId: rootId }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    chunks: (tx) =>
      listEpisodes(tx, server.tenantId, { documentId }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
  };
  const expected = {
    steps: { rows: ['Measure the span'], totalCount: 1 },
    knowledge: { rows: ['The span is 40 m'], totalCount: 1 },
    chunks: { rows: ['chunk one'], totalCount: 1 },
  };

  /** `n` rows of each label in the tenant, none of them the measured node's. */
  const others = (n: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, $n) AS i
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: 'other ' + i, status: 'PENDING',
                         priority: 'MEDIUM', createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Knowledge {id: randomUUID(), tenantId: $t, kind: 'FACT', content: 'other ' + i,
                              tags: [], tagText: '', confidence: 1.0, createdAt: datetime(),
                              updatedAt: datetime()})
          CREATE (:Episode {id: randomUUID(), tenantId: $t, kind: 'NOTE', status: 'INGESTED',
                            sourceKey: randomUUID(), content: 'other ' + i, scope: 'TENANT',
                            occurredAt: datetime(), createdAt: datetime(), updatedAt: datetime()})`,
        params: { t: server.tenantId, n: neo4j.int(n) },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    const ids = await createPlan(server, [
      { key: 'root', title: 'Survey the bridge' },
      { key: 'step', title: 'Measure the span', parentKey: 'root' },
    ]);
    rootId = ids.root!;
    const learned = await server.gql<unknown, { task: string }>(
      `mutation($task: ID!) {
         recordKnowledge(input: { content: "The span is 40 m", taskId: $task }) { id }
       }`,
      { task: rootId },
    );
    expect(learned.errors).toBeUndefined();
    const [row] = await server.graph.write((tx) =>
      tx.run<{ id: string }>({
        cypher: `
          CREATE (d:Document {id: randomUUID(), tenantId: $t, title: 'Bridge survey',
                              mime: 'text/plain', bytes: 9, chunks: 1, status: 'INGESTED',
                              createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Episode {id: randomUUID(), tenantId: $t, kind: 'DOCUMENT_CHUNK',
                            status: 'INGESTED', sourceKey: randomUUID(), content: 'chunk one',
                            scope: 'TENANT', occurredAt: datetime(), createdAt: datetime(),
                            updatedAt: datetime()})-[:FROM_DOCUMENT]->(d)
          RETURN d.id AS id`,
        params: { t: server.tenantId },
      }),
    );
    documentId = row!.id;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('reads as much with 300 more tasks, knowledge items and episodes in the tenant', async () => {
    await others(10);
    await expectWorkUnchanged(prof, reads, () => others(MORE), expected);
  });
});
