import { describe, expect, it } from 'vitest';
import { echoExecutor, type Executor } from '../src/engine/executor.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { TOPICS, type TaskUpdatedEvent } from '../subscriptions/topics.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import { statementsByTransaction } from './utils/statements.js';
import {
  createOperators,
  eventually,
  inTenant,
  startPlan,
  withScheduler,
} from './utils/engine-steps.js';

/**
 * The taskUpdated events of the tenant while `work` runs and until `completed` steps (not
 * roots) were heard COMPLETED, and the statements each transaction sent meanwhile.
 */
async function heardDuring(
  server: { pubsub: PubSub; tenantId: string } & Parameters<typeof statementsByTransaction>[0],
  completed: number,
  work: () => Promise<void>,
) {
  const heard: TaskUpdatedEvent[] = [];
  const feed = server.pubsub.subscribe(TOPICS.taskUpdated, { tenantId: server.tenantId });
  void (async () => {
    for await (const e of feed) heard.push(e as TaskUpdatedEvent);
  })();
  const statements = await statementsByTransaction(server, async () => {
    await work();
    await eventually(`${completed} COMPLETED events of steps`, () =>
      expect(
        heard.filter((e) => e.task.status === 'COMPLETED' && e.ancestorIds.length > 0),
      ).toHaveLength(completed),
    );
  }).finally(() => feed.return?.());
  return { heard, statements };
}

/**
 * A step's end announces the step from the statement that ends its run (numberEvent) when
 * nothing after it in the transaction changes the step: the statement that read it again for
 * its event was one of about ten in a chain step's end (bench:orchestration). A step that
 * queued writes, which may change it, is read again after them as before.
 */
describe('a step’s end event', () => {
  it('is numbered by the statement that ends the run when the step queued no writes', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      let ids: Record<string, string> = {};
      const { heard, statements } = await heardDuring(server, 3, async () => {
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          ...['a', 'b', 'c'].map((key) => ({ key, title: key, parentKey: 'root' })),
        ]);
        await withScheduler(server, echoExecutor(), async () => {
          await waitForWorkflow(server, ids.root!, allFinished);
        });
      });
      const ends = statements.filter((n) => n.includes('run.repository.endRunBatch'));
      expect(ends.length).toBeGreaterThan(0);
      for (const names of ends) expect(names).not.toContain('task-event.repository.taskEventBatch');
      // Each is the step as committed, numbered after its events before it, with its ancestors.
      for (const key of ['a', 'b', 'c']) {
        const mine = heard.filter((e) => e.task.id === ids[key]);
        const done = mine.find((e) => e.task.status === 'COMPLETED')!;
        expect(done.change).toBe('STATUS_CHANGED');
        expect(JSON.parse(done.task.result!)).toMatchObject({ step: key });
        expect(done.ancestorIds).toEqual([ids.root]);
        expect(done.seq).toBe(Math.max(...mine.map((e) => e.seq!)));
        expect(new Set(mine.map((e) => e.seq)).size).toBe(mine.length);
      }
    });
  });

  it('carries what the step’s queued writes changed of it', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Operator: [] });
      const describing: Executor = async (step) => {
        step.writes.add('describe', async (tx) => {
          await tx.run({
            cypher: 'MATCH (t:Task {id: $id}) SET t.description = $text',
            params: { id: step.task.id, text: `described by ${step.task.key}` },
          });
        });
        return { result: 'ok' };
      };
      let ids: Record<string, string> = {};
      const { heard } = await heardDuring(server, 1, async () => {
        ids = await startPlan(server, [
          { key: 'root', title: 'Root' },
          { key: 'a', title: 'a', parentKey: 'root' },
        ]);
        await withScheduler(server, describing, async () => {
          await waitForWorkflow(server, ids.root!, allFinished);
        });
      });
      const done = heard.find((e) => e.task.id === ids.a && e.task.status === 'COMPLETED')!;
      expect(done.task.description).toBe('described by a');
    });
  });
});
