import { describe, expect, it } from 'vitest';
import { statementName } from '../graph/statement-name.js';
import { echoExecutor } from '../src/engine/executor.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';

/**
 * A step's end costs round trips only for what it may have unblocked: its dependants'
 * promotion when something depends on it (issue 15: at saturation every statement a step
 * sends is throughput lost). The other steps' ends send no promotion statement.
 */
describe('a step’s end', () => {
  it('promotes dependants only when the step has some', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const sent: { name: string; cypher: string }[] = [];
      server.graph.onStatement = (q) =>
        sent.push({ name: statementName(q.cypher), cypher: q.cypher });
      try {
        // Of the three steps only `a` has a dependant.
        const ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'A', parentKey: 'root' },
          { key: 'b', title: 'B', parentKey: 'root', dependsOnKeys: ['a'] },
          { key: 'c', title: 'C', parentKey: 'root' },
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          const tasks = await waitForWorkflow(server, ids.root!, allFinished);
          expect(tasks.map((t) => t.status)).toEqual(Array(4).fill('COMPLETED'));
        });
      } finally {
        server.graph.onStatement = undefined;
      }
      expect(sent.filter((s) => s.name === 'run.repository.endRun')).toHaveLength(3);
      const promotions = sent.filter((s) => s.name === 'promotion.repository.promotableDependants');
      expect(promotions).toHaveLength(1);
    });
  });
});
