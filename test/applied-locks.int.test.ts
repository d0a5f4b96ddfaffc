import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markApplied, setTaskContext } from '../graph/memory/applied.repository.js';
import { commitOrder } from './utils/commit-order.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Every run that recalled a popular memory item linked it APPLIED_IN with a MERGE, which locks
 * both nodes until the commit: under bench:agents' load (200 tasks with the same brief, 2026-12-01)
 * the steps' outcome transactions queued on the same few items, and so did the heartbeats of
 * their tasks, for minutes. Two runs marking the same item must not wait for each other. The
 * order of the two commits shows whether the second waited for the first's lock.
 */
describe('linking popular memory to runs and tasks', () => {
  let server: TestServer;
  const item = randomUUID();
  const runs = [randomUUID(), randomUUID()];

  beforeAll(async () => {
    server = await startTestServer();
    // A piece of knowledge that earlier runs applied often (a dense node), and two new runs.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (k:Knowledge {tenantId: $tenantId, id: $item, kind: 'FACT', content: 'popular',
                               confidence: 1.0, tags: [], createdAt: datetime(), updatedAt: datetime()})
          WITH k
          UNWIND range(1, 80) AS i
          CREATE (k)-[:APPLIED_IN]->(:Run {tenantId: $tenantId, id: randomUUID(), status: 'SUCCEEDED'})
          WITH DISTINCT k
          UNWIND $runs AS id
          CREATE (:Run {tenantId: $tenantId, id: id, status: 'RUNNING'})`,
        params: { tenantId: server.tenantId, item, runs },
      }),
    );
  });
  afterAll(() => server.stop());

  it('does not wait for another run that marks the same item', async () => {
    const ref = [{ label: 'Knowledge' as const, id: item }];
    const order = await commitOrder(
      server.graph,
      (tx) => markApplied(tx, server.tenantId, runs[0]!, ref),
      (tx) => markApplied(tx, server.tenantId, runs[1]!, [...ref, ...ref]),
    );
    expect(order).toEqual(['second', 'first']);

    // Once per run, however often it is marked.
    await server.graph.write((tx) => markApplied(tx, server.tenantId, runs[1]!, ref));
    const rows = await server.graph.read((tx) =>
      tx.run<{ run: string; links: number }>({
        cypher: `UNWIND $runs AS id MATCH (:Knowledge {id: $item})-[a:APPLIED_IN]->(r:Run {id: id})
                 RETURN r.id AS run, count(a) AS links ORDER BY run`,
        params: { item, runs },
      }),
    );
    expect(rows).toEqual([...runs].sort().map((run) => ({ run, links: 1 })));
  });

  it('gives two tasks the same popular entity as context without one waiting for the other', async () => {
    const entity = randomUUID();
    const tasks = [randomUUID(), randomUUID()];
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (e:Entity {tenantId: $tenantId, id: $entity, name: 'Popular', type: 'Thing',
                            createdAt: datetime(), updatedAt: datetime()})
          WITH e
          UNWIND range(1, 80) AS i
          CREATE (:Task {tenantId: $tenantId, id: randomUUID(), title: 'Earlier', status: 'COMPLETED'})
                 -[:CONTEXT]->(e)
          WITH DISTINCT e
          UNWIND $tasks AS id
          CREATE (:Task {tenantId: $tenantId, id: id, title: 'New', status: 'PENDING'})`,
        params: { tenantId: server.tenantId, entity, tasks },
      }),
    );
    const item = { label: 'Entity' as const, id: entity };
    const order = await commitOrder(
      server.graph,
      (tx) => setTaskContext(tx, server.tenantId, [{ taskId: tasks[0]!, items: [item] }]),
      (tx) => setTaskContext(tx, server.tenantId, [{ taskId: tasks[1]!, items: [item, item] }]),
    );
    expect(order).toEqual(['second', 'first']);

    await server.graph.write((tx) =>
      setTaskContext(tx, server.tenantId, [{ taskId: tasks[1]!, items: [item] }]),
    );
    const rows = await server.graph.read((tx) =>
      tx.run<{ task: string; links: number }>({
        cypher: `UNWIND $tasks AS id MATCH (t:Task {id: id})-[c:CONTEXT]->(:Entity {id: $entity})
                 RETURN t.id AS task, count(c) AS links ORDER BY task`,
        params: { tasks, entity },
      }),
    );
    expect(rows).toEqual([...tasks].sort().map((task) => ({ task, links: 1 })));
  });
});
