import neo4j from 'neo4j-driver';
import { describe, expect, inject, it } from 'vitest';
import type { CypherQuery } from '../graph/cypher.js';
import { echoExecutor, StepError, type Executor } from '../src/engine/executor.js';
import { allFinished, waitForWorkflows } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';

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
      const sent = new Map<string, CypherQuery>();
      server.graph.onStatement = (q) => {
        if (!sent.has(q.cypher)) sent.set(q.cypher, q);
      };
      await createOperators(server, { Operator: ['research'] });
      // One workflow that succeeds; one whose step fails after a retry, failing its parent
      // fast and cancelling the step that waited on it.
      const ok = await startPlan(server, [
        { key: 'root', title: 'Root' },
        { key: 'a', title: 'A', parentKey: 'root', requiredCapabilities: ['research'] },
        { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
        { key: 'c', title: 'C', parentKey: 'root', dependsOnKeys: ['a', 'b'] },
      ]);
      const failing = await startPlan(server, [
        { key: 'root', title: 'Failing root' },
        { key: 'x', title: 'Breaks', parentKey: 'root' },
        { key: 'y', title: 'Waits', parentKey: 'root', dependsOnKeys: ['x'] },
      ]);
      const echo = echoExecutor();
      let tries = 0;
      const executor: Executor = (step) =>
        step.task.title !== 'Breaks'
          ? echo(step)
          : Promise.reject(new StepError('broken', ++tries === 1));
      await withScheduler(server, executor, () =>
        waitForWorkflows(server, [ok.root!, failing.root!], allFinished).then(() => undefined),
      );
      expect(tries).toBe(2);
      server.graph.onStatement = undefined;

      const settings = inject('neo4j');
      const driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password));
      const offenders: string[] = [];
      try {
        for (const q of sent.values()) {
          const res = await driver.executeQuery(`EXPLAIN ${q.cypher}`, q.params ?? {}, {
            database: settings.database,
          });
          const found = unanchored(res.summary.plan as unknown as Plan);
          if (found.length)
            offenders.push(`${found.join('; ')}\n  in: ${q.cypher.trim().slice(0, 300)}`);
        }
      } finally {
        await driver.close();
      }
      expect(sent.size).toBeGreaterThan(20);
      expect(offenders, offenders.join('\n\n')).toEqual([]);
    });
  });
});
