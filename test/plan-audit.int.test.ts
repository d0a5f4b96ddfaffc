import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { candidateAgents } from '../graph/claim.repository.js';
import { describe, expect, inject, it } from 'vitest';
import type { CypherQuery } from '../graph/cypher.js';
import { echoExecutor, StepError, type Executor } from '../src/engine/executor.js';
import { allFinished, waitForWorkflows } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';
import type { TestServer } from './utils/server.js';

interface Plan {
  operatorType: string;
  arguments: { Details?: unknown };
  children: Plan[];
}

/** Operators that read nodes or relationships without starting from a given key. */
const SCANS =
  /^(AllNodesScan|NodeByLabelScan|NodeIndexScan|.*RelationshipTypeScan|.*IndexContainsScan|.*IndexEndsWithScan)/;

/**
 * Where a plan reads the database from anything but a given id or tenant: a scan, or an index
 * seek whose predicate names neither. Such a plan's work grows with every tenant's data.
 */
function unanchored(plan: Plan): string[] {
  const op = plan.operatorType.replace(/@.*/, '');
  const details = String(plan.arguments.Details ?? '');
  const seek =
    /IndexSeek/.test(op) &&
    !/Unique/.test(op) &&
    !/\b(tenantId|id|hash|scope)\b =|tenantId IN/.test(details);
  const here = SCANS.test(op) || seek ? [`${op} ${details.split(',')[0]}`] : [];
  return [...here, ...plan.children.flatMap(unanchored)];
}

/**
 * The statements whose plans start anywhere but a given id or tenant, with where. A plan made
 * while an index's sample is stale (another suite has just written thousands of nodes) can scan
 * an id index it would seek: such a statement is planned again, afresh, once its outdated
 * indexes are sampled anew, and counts only if it scans then too.
 */
async function offendersIn(
  sent: Map<string, CypherQuery>,
  /** Statements that read across tenants by design (a small global table). */
  allowed: RegExp[] = [],
): Promise<string[]> {
  const settings = inject('neo4j');
  const driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password));
  const unanchoredIn = async (q: CypherQuery, replan: boolean) => {
    const res = await driver.executeQuery(
      `${replan ? 'CYPHER replan=force ' : ''}EXPLAIN ${q.cypher}`,
      q.params ?? {},
      { database: settings.database },
    );
    return unanchored(res.summary.plan as unknown as Plan);
  };
  try {
    const suspects: CypherQuery[] = [];
    for (const q of sent.values()) {
      if (allowed.some((a) => a.test(q.cypher))) continue;
      if ((await unanchoredIn(q, false)).length) suspects.push(q);
    }
    if (suspects.length === 0) return [];
    await driver.executeQuery(
      'CALL db.resampleOutdatedIndexes()',
      {},
      {
        database: settings.database,
      },
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const offenders: string[] = [];
    for (const q of suspects) {
      const found = await unanchoredIn(q, true);
      if (found.length)
        offenders.push(`${found.join('; ')}\n  in: ${q.cypher.trim().slice(0, 300)}`);
    }
    return offenders;
  } finally {
    await driver.close();
  }
}

/** Records each distinct statement the server's graph sends while `work` runs. */
async function statementsOf(server: TestServer, work: () => Promise<void>) {
  const sent = new Map<string, CypherQuery>();
  server.graph.onStatement = (q) => {
    if (!sent.has(q.cypher)) sent.set(q.cypher, q);
  };
  try {
    await work();
  } finally {
    server.graph.onStatement = undefined;
  }
  return sent;
}

/**
 * Neo4j plans a statement once and caches the plan, from the statistics it has then. On a
 * near-empty database (a fresh install, CI) a plan that starts from a status index or a label
 * looks as cheap as one that starts from the task it was given, and it stays cached while the
 * database grows: claims read every tenant's agents, settling read every FAILED task (the CI
 * failures of 616aa01). Every statement the engine sends for one tenant's workflow must start
 * from what it was given.
 */
describe('the engine’s statements', () => {
  it('start from the ids and tenants they are given, never from a scan across tenants', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: ['research'] });
      // One workflow that succeeds; one whose step fails after a retry, failing its parent
      // fast and cancelling the step that waited on it.
      const ok = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root', requiredCapabilities: ['research'] },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
        { key: 'c', title: 'C', parentKey: 'root', dependsOnKeys: ['a', 'b'] },
      ]);
      let tries = 0;
      const sent = await statementsOf(server, async () => {
        const failing = await startPlan(server, [
          { key: 'root', title: 'Failing root' },
          { key: 'x', title: 'Breaks', parentKey: 'root' },
          { key: 'y', title: 'Waits', parentKey: 'root', dependsOnKeys: ['x'] },
        ]);
        const echo = echoExecutor();
        const executor: Executor = (step) =>
          step.task.title !== 'Breaks'
            ? echo(step)
            : Promise.reject(new StepError('broken', ++tries === 1));
        await withScheduler(server, executor, () =>
          waitForWorkflows(server, [ok.root!, failing.root!], allFinished).then(() => undefined),
        );
        // A claim's read of only the agents its steps can go to (assignment.ts: agentsWanted),
        // which a claim makes only when none of its steps is free of requirements.
        const wanted = { chiefs: true, capabilities: ['research'], ids: [randomUUID()] };
        await server.graph.read((tx) => candidateAgents(tx, [server.tenantId], wanted));
      });
      expect(tries).toBe(2);

      const offenders = await offendersIn(sent);
      expect(sent.size).toBeGreaterThan(20);
      expect(offenders, offenders.join('\n\n')).toEqual([]);
    });
  });
});

/** Reads a client makes, with nested fields, in a tenant that has run a workflow. */
const READS = [
  `{ agents(first: 20) { nodes { id name capabilities { name } messages(first: 5) { id } } totalCount } }`,
  `{ tasks(first: 20) { nodes { id title status assignment { agent { name } } subtasks { id }
     dependencies { id } runs { status } } totalCount } }`,
  `{ taskCounts { status count } }`,
  `{ knowledgeItems(first: 10) { nodes { id content } } }`,
  `{ searchKnowledge(query: "step") { knowledge { id } } }`,
  `{ search(query: "step") { __typename } }`,
  `{ searchMemory(query: "step") { __typename } }`,
  `{ conversations(first: 10) { nodes { id } } }`,
  `{ messages(first: 10) { nodes { id content } } }`,
  `{ auditEvents(first: 10) { nodes { id operation } } }`,
  `{ apiKeys(first: 5) { nodes { id } } }`,
  `{ llmUsage { calls } }`,
  `{ skills { id } }`,
  `{ entities(first: 10) { nodes { id name } } }`,
  `{ facts(first: 5) { nodes { id } } }`,
  `{ episodes(first: 10) { nodes { id } } }`,
  `{ toolPolicies { tool } }`,
];

const TASK_READ = (id: string) => `{ task(id: "${id}") { id toolCallRequests { id }
  forkOf { __typename } forks { __typename } evaluations { id } evaluation { id }
  assignee { id name liveVersion { id } taskCounts { status } llmUsage { calls } }
  assignment { score } parent { id } subtasks { id } dependencies { id } dependents { id }
  requiredCapabilities delegatedBy { id } runs { id status agent { id } }
  llmUsage(scope: SUBTREE) { calls } }
  messages(first: 5, filter: { aboutTaskId: "${id}" }) { nodes { id } totalCount } }`;

describe('the API’s reads', () => {
  it('start from the tenant and the ids asked for, never from a scan across tenants', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: ['research'] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A step', parentKey: 'root', requiredCapabilities: ['research'] },
        { key: 'b', title: 'B step', parentKey: 'root', dependsOnKeys: ['a'] },
      ]);
      await withScheduler(server, echoExecutor(), () =>
        waitForWorkflows(server, [ids.root!], allFinished).then(() => undefined),
      );
      const sent = await statementsOf(server, async () => {
        for (const query of [...READS, ...Object.values(ids).map(TASK_READ)]) {
          const res = await server.gql<unknown, never>(query);
          expect(res.errors, query).toBeUndefined();
        }
        const workflow = await server.gql<unknown, never>(
          `{ workflow(taskId: "${ids.root}") { tasks { id status } } }`,
        );
        expect(workflow.errors).toBeUndefined();
      });
      // Retention rules: one small table for all tenants (the sweep reads them all).
      const offenders = await offendersIn(sent, [/MATCH \(r:RetentionRule\)/]);
      expect(sent.size).toBeGreaterThan(20);
      expect(offenders, offenders.join('\n\n')).toEqual([]);
    });
  });
});
