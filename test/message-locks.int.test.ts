import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { writeMessage, writePlan, type PlannedStep } from '../graph/agent-work.repository.js';
import { connectGraph, type Graph } from '../graph/graph.js';
import { commitOrder } from './utils/commit-order.js';
import { deleteTenant } from './utils/server.js';

/**
 * Issue 15 (bench:agents): every step's report goes to its plan's Chief of Staff, and every
 * plan links its steps to the chief and to the tenant's few capabilities. Written with MERGE,
 * each such relationship locked the chief (or the capability) until the step's end committed,
 * so the ends of all workflows of a chief queued one behind the other (writeMessage averaged
 * 1.2 s and writePlan 1.3 s a statement under load). A report or a plan must not wait for
 * another transaction that wrote to the same chief and is still open: the second one here
 * commits while the first is held open.
 */
describe('writes that link to a shared node while another transaction holds its link open', () => {
  let graph: Graph;
  const tenantId = `message-locks-${randomUUID()}`;
  const chiefId = randomUUID();
  const operatorId = randomUUID();

  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    // A chief and capabilities as they are after a while: many messages and steps link to them.
    await graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (cos:Agent {id: $chiefId, tenantId: $tenantId, name: 'Chief', role: 'CHIEF_OF_STAFF',
                             status: 'IDLE', active: true})
          CREATE (:Agent {id: $operatorId, tenantId: $tenantId, name: 'Operator',
                          role: 'MASTER_OPERATOR', status: 'IDLE', active: true})
          WITH cos
          UNWIND ['research', 'writing'] AS name
          CREATE (c:Capability {id: randomUUID(), tenantId: $tenantId, name: name})
          WITH cos, c
          UNWIND range(1, 100) AS i
          CREATE (:Message {id: randomUUID(), tenantId: $tenantId})-[:TO]->(cos)
          CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'old ' + i})-[:REQUIRES]->(c)`,
        params: { tenantId, chiefId, operatorId },
      }),
    );
  });
  afterAll(async () => {
    await deleteTenant(graph, tenantId);
    await graph?.close();
  });

  const report = (conversationId: string) => ({
    id: randomUUID(),
    tenantId,
    conversationId,
    conversationTitle: 'Plan',
    kind: 'REPORT',
    content: 'done',
    fromAgentId: operatorId,
    toAgentIds: [chiefId],
    broadcast: false,
    aboutTaskId: null,
  });

  it('a report to a Chief of Staff commits while another report to it is not yet committed', async () => {
    const order = await commitOrder(
      graph,
      (tx) => writeMessage(tx, report(randomUUID())),
      (tx) => writeMessage(tx, report(randomUUID())),
    );
    expect(order).toEqual(['second', 'first']);
    const [row] = await graph.read((tx) =>
      tx.run<{ reports: number }>({
        cypher: `MATCH (:Agent {id: $operatorId})-[:SENT]->(m:Message)-[:TO]->(:Agent {id: $chiefId})
                 WHERE (m)-[:IN]->(:Conversation) RETURN count(m) AS reports`,
        params: { operatorId, chiefId },
      }),
    );
    expect(Number(row!.reports)).toBe(2);
  });

  it('a message written again (the same id) adds no second relationship', async () => {
    const again = report(randomUUID());
    await graph.write((tx) => writeMessage(tx, { ...again, toAgentIds: [chiefId, chiefId] }));
    await graph.write((tx) => writeMessage(tx, again));
    const [row] = await graph.read((tx) =>
      tx.run<{ links: number; seq: number }>({
        cypher: `MATCH (m:Message {id: $id})
                 RETURN COUNT { (m)-[]-() } AS links, m.seq AS seq`,
        params: { id: again.id },
      }),
    );
    // IN, SENT and one TO; its place taken once.
    expect(Number(row!.links)).toBe(3);
    expect(Number(row!.seq)).toBe(1);
  });

  it('a plan of a Chief of Staff commits while another plan of it, on the same capabilities, is not yet committed', async () => {
    const roots = await graph.write(async (tx) =>
      (
        await tx.run<{ id: string }>({
          cypher: `UNWIND range(1, 2) AS i
                   CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: 'root ' + i,
                                   status: 'IN_PROGRESS', priority: 'MEDIUM', version: 1})
                   RETURN t.id AS id`,
          params: { tenantId },
        })
      ).map((r) => r.id),
    );
    const steps: PlannedStep[] = [
      {
        key: 'find',
        title: 'Find',
        instructions: 'i',
        capability: 'research',
        dependsOn: [],
        condition: null,
      },
      {
        key: 'write',
        title: 'Write',
        instructions: 'i',
        capability: 'writing',
        dependsOn: ['find'],
        condition: null,
      },
    ];
    const order = await commitOrder(
      graph,
      (tx) => writePlan(tx, tenantId, roots[0]!, chiefId, steps),
      (tx) => writePlan(tx, tenantId, roots[1]!, chiefId, steps),
    );
    expect(order).toEqual(['second', 'first']);
    // Written again, a plan adds nothing: each step has its one parent, chief and capability.
    await graph.write((tx) => writePlan(tx, tenantId, roots[0]!, chiefId, steps));
    const rows = await graph.read((tx) =>
      tx.run<{ links: number[] }>({
        cypher: `MATCH (t:Task)-[:SUBTASK_OF]->(root:Task) WHERE root.id IN $roots
                 RETURN [COUNT { (t)-[:SUBTASK_OF]->() }, COUNT { (t)-[:DELEGATED_BY]->() },
                         COUNT { (t)-[:REQUIRES]->() }] AS links, t.key AS key`,
        params: { roots },
      }),
    );
    expect(rows.length).toBe(6); // two steps and the synthesis, per plan
    for (const r of rows) expect(r.links.map(Number).slice(0, 2)).toEqual([1, 1]);
    expect(rows.filter((r) => Number(r.links[2]) === 1).length).toBe(4);
  });
});
