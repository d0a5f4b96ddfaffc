import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { hasPlan } from '../graph/agent-work.repository.js';
import { versionsOfAgents } from '../graph/agent-version.repository.js';
import { countOpenAssignments, moveOpenAssignments } from '../graph/agent.repository.js';
import { budgetTargetExists } from '../graph/budget.repository.js';
import { unknownIds } from '../graph/ids.repository.js';
import { nodeById } from '../graph/node.repository.js';
import { releaseAgentWork } from '../graph/run.repository.js';
import { lockTask, openDescendantIds } from '../graph/task.repository.js';
import { requestsByTaskIds } from '../graph/tool-approval.repository.js';
import { BudgetScope } from '../src/domain/budget.js';
import { VersionStatus } from '../src/domain/agent-version.js';
import { createOperators, createPlan } from './utils/engine-steps.js';
import { measureEach, profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Other tenants of one task and one agent each, and the nodes the tenant under test gains. */
const SMALL_TENANTS = 300;
const MORE = 300;

/**
 * A lookup by id seeks the label's unique id index, whatever the planner's statistics say. On a
 * database of many tenants holding one node of a label each, the `(tenantId)` index (migration
 * 29) looks as selective as the id, and the planner took it and filtered by id: a tenant that
 * then grew paid for every node of the label it held, on each lookup, until Neo4j replanned.
 * Every `{tenantId, id}` lookup now carries `USING INDEX SEEK …(id)`.
 */
describe('a lookup by id costs the same however many nodes the tenant holds', () => {
  let server: TestServer;
  const prof = profiler();
  const smallPrefix = `lookup-small-${randomUUID()}-`;
  let agentId = '';
  let otherAgentId = '';
  let rootId = '';
  let stepId = '';
  const nobody = randomUUID();

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    lockTask: (tx) => lockTask(tx, server.tenantId, stepId),
    countOpenAssignments: (tx) => countOpenAssignments(tx, server.tenantId, agentId),
    moveOpenAssignments: (tx) => moveOpenAssignments(tx, server.tenantId, agentId, otherAgentId),
    releaseAgentWork: async (tx) =>
      (await releaseAgentWork(tx, server.tenantId, agentId, 'paused')).map((t) => t.id),
    versionsOfAgents: (tx) =>
      versionsOfAgents(tx, server.tenantId, [agentId], [VersionStatus.LIVE]),
    requestsByTaskIds: (tx) => requestsByTaskIds(tx, server.tenantId, [stepId]),
    openDescendantIds: (tx) => openDescendantIds(tx, server.tenantId, rootId),
    hasPlan: (tx) => hasPlan(tx, server.tenantId, rootId),
    unknownIds: (tx) => unknownIds(tx, server.tenantId, 'Task', [stepId, nobody]),
    nodeById: (tx) => nodeById(tx, server.tenantId, agentId),
    budgetTargetExists: (tx) => budgetTargetExists(tx, server.tenantId, BudgetScope.TASK, rootId),
  };

  const create = (cypher: string, params: Record<string, unknown>) =>
    server.graph.write((tx) => tx.run({ cypher, params }));

  beforeAll(async () => {
    server = await startTestServer();
    const agents = await createOperators(server, { Ada: ['survey'], Bea: ['survey'] });
    agentId = agents.Ada!;
    otherAgentId = agents.Bea!;
    const ids = await createPlan(server, [
      { key: 'root', title: 'Survey the bridge' },
      { key: 'step', title: 'Measure the span', parentKey: 'root' },
    ]);
    rootId = ids.root!;
    stepId = ids.step!;
    const assigned = await server.gql(
      `mutation($id: ID!, $agent: ID!) { assignTask(id: $id, agentId: $agent) { id } }`,
      { id: stepId, agent: agentId },
    );
    expect(assigned.errors).toBeUndefined();
    // The statistics of many small tenants: each label's (tenantId) index resampled over them,
    // and the plans made again from it.
    await create(
      `UNWIND range(1, $n) AS i
       CREATE (:Task {id: randomUUID(), tenantId: $prefix + i, title: 'other', status: 'READY',
                      createdAt: datetime(), updatedAt: datetime()})
       CREATE (:Agent {id: randomUUID(), tenantId: $prefix + i, name: 'other',
                       createdAt: datetime(), updatedAt: datetime()})`,
      { n: neo4j.int(SMALL_TENANTS), prefix: smallPrefix },
    );
    await create("CALL db.resampleIndex('task_tenant')", {});
    await create("CALL db.resampleIndex('agent_tenant')", {});
    await new Promise((r) => setTimeout(r, 1_000));
    await create('CALL db.clearQueryCaches()', {});
  });
  afterAll(async () => {
    await server?.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (n:Task|Agent) WHERE n.tenantId STARTS WITH $prefix DETACH DELETE n`,
        params: { prefix: smallPrefix },
      }),
    );
    await prof.close();
    await server?.stop();
  });

  it('takes the same db hits before and after the tenant gains 300 tasks and agents', async () => {
    const before = await measureEach(prof, reads);
    await create(
      `UNWIND range(1, $n) AS i
       CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'more', status: 'READY',
                      createdAt: datetime(), updatedAt: datetime()})
       CREATE (:Agent {id: randomUUID(), tenantId: $tenantId, name: 'more ' + i,
                       createdAt: datetime(), updatedAt: datetime()})`,
      { n: neo4j.int(MORE), tenantId: server.tenantId },
    );
    const after = await measureEach(prof, reads);
    for (const name of Object.keys(reads)) {
      expect(after[name]!.result, name).toBe(before[name]!.result);
      expect(after[name]!.hits, `${name}\n${after[name]!.plans}`).toBe(before[name]!.hits);
    }
    // The reads found what they look up, so equal work is not the work of finding nothing.
    expect(JSON.parse(before.openDescendantIds!.result)).toEqual([stepId]);
    expect(JSON.parse(before.countOpenAssignments!.result)).toBe(1);
    expect(JSON.parse(before.moveOpenAssignments!.result)).toEqual([stepId]);
    expect(JSON.parse(before.releaseAgentWork!.result)).toEqual([stepId]);
    expect(JSON.parse(before.hasPlan!.result)).toBe(true);
    expect(JSON.parse(before.unknownIds!.result)).toHaveLength(1);
    expect(JSON.parse(before.nodeById!.result)).toMatchObject({ id: agentId });
  });
});
