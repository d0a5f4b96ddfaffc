import { describe, expect, it } from 'vitest';
import { echoExecutor } from '../src/engine/executor.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import { statementsByTransaction } from './utils/statements.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';

/**
 * A completed step's result becomes a memory episode in the statement that ends its run: the
 * statement that created it after was one of about eight in a chain step's end
 * (bench:orchestration). The episode is the same: PENDING, scoped to the root, FROM_RUN the run
 * that ended and BY its agent.
 */
describe('a step’s result as an episode', () => {
  it('is written by the statement that ends its run, with its provenance', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      let ids: Record<string, string> = {};
      const statements = await statementsByTransaction(server, async () => {
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          ...['a', 'b'].map((key) => ({ key, title: key, parentKey: 'root' })),
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          await waitForWorkflow(server, ids.root!, allFinished);
        });
      });
      const ends = statements.filter((n) => n.includes('run.repository.endRunBatch'));
      expect(ends.length).toBeGreaterThanOrEqual(2);
      for (const names of ends) {
        expect(names.filter((n) => n.endsWith('mergeEpisodeBatch'))).toEqual([]);
      }
      const episodes = await server.graph.read((tx) =>
        tx.run<Record<string, unknown>>({
          cypher: `
            MATCH (e:Episode {tenantId: $tenantId, kind: 'RUN_RESULT'})-[:FROM_RUN]->(r:Run)-[:OF]->(t:Task)
            MATCH (e)-[:BY]->(a:Agent)<-[:BY]-(r)
            RETURN t.key AS key, e.status AS status, e.scope AS scope, e.scopeId AS scopeId,
                   e.sourceKey = 'run:' + r.id AS keyed, e.content = t.result AS content,
                   a.name AS agent, e.structured IS NOT NULL AS structured,
                   COUNT { (e)-[]-() } AS edges
            ORDER BY key`,
          params: { tenantId: server.tenantId },
        }),
      );
      const expected = { status: 'PENDING', scope: 'TASK', scopeId: ids.root, keyed: true };
      expect(episodes).toEqual(
        ['a', 'b'].map((key) => ({
          key,
          ...expected,
          content: true,
          agent: 'Operator',
          structured: true,
          edges: 2,
        })),
      );
    });
  });
});
