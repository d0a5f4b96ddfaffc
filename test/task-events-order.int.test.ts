import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../subscriptions/topics.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const OrderWatch = graphql(`
  subscription OrderWatch($taskId: ID) {
    taskUpdated(taskId: $taskId) {
      task {
        id
        status
      }
    }
  }
`);

/**
 * Round 36 of 2026-12-02: a subscriber heard a step go IN_PROGRESS > READY > COMPLETED. Two
 * worker processes publish to the bus after their own commits, so the claim's event can reach
 * it before the promotion's that came first; a subscriber must never hear a task go back.
 */
describe('taskUpdated, when one task’s events reach the bus out of commit order', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('leaves out an event older than one already delivered for the task', async () => {
    const [task] = await server.services.tasks.createMany(server.tenantId, 'test', [
      { title: 'Claimed before its promotion was heard' },
    ]);
    const watch = await subscribe(server, OrderWatch, { taskId: task!.id });
    const publish = (status: string, version: number) =>
      server.pubsub.publish(TOPICS.taskUpdated, {
        tenantId: server.tenantId,
        task: { ...task!, status, version },
        change: 'STATUS_CHANGED',
        ancestorIds: [],
      });
    // As the bus can get them: the claim (version + 2) before the promotion (version + 1).
    await publish('IN_PROGRESS', task!.version + 2);
    await publish('READY', task!.version + 1);
    await publish('COMPLETED', task!.version + 3);
    const heard = [];
    for (let i = 0; i < 2; i++) heard.push((await watch.waitForNext()).data!.taskUpdated.task);
    await watch.close();
    expect(heard.map((t) => t.status)).toEqual(['IN_PROGRESS', 'COMPLETED']);
  });
});
