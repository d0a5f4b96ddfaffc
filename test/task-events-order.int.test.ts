import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../subscriptions/topics.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const OrderWatch = graphql(`
  subscription OrderWatch($taskId: ID) {
    taskUpdated(taskId: $taskId) {
      seq
      task {
        id
        status
      }
    }
  }
`);

/**
 * Round 36 of 2026-12-02: a subscriber heard a step go IN_PROGRESS > READY > COMPLETED. Two
 * processes publish to the bus after their own commits, so the claim's event can reach it
 * before the promotion's that was committed first. The bus puts a task's events back in commit
 * order by their numbers (subscriptions/sequence.ts): the subscriber hears every transition.
 */
describe('taskUpdated, when one task’s events reach the bus out of commit order', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('delivers every one of them in commit order, and leaves out a second copy', async () => {
    const [task] = await server.services.tasks.createMany(server.tenantId, 'test', [
      { title: 'Claimed before its promotion was heard' },
    ]);
    const watch = await subscribe(server, OrderWatch, { taskId: task!.id });
    const publish = (status: string, seq: number) =>
      server.pubsub.publish(TOPICS.taskUpdated, {
        tenantId: server.tenantId,
        task: { ...task!, status },
        change: 'STATUS_CHANGED',
        ancestorIds: [],
        seq,
        previousAt: Date.now(),
      });
    // Its creation was event 1. As the bus can get the next ones: the claim (3) before the
    // promotion (2), and the promotion twice (a relay published it again after its writer's
    // hold lapsed).
    const claim = publish('IN_PROGRESS', 3);
    await new Promise((r) => setTimeout(r, 100));
    await publish('READY', 2);
    await claim;
    await publish('READY', 2);
    await publish('COMPLETED', 4);
    const heard = [];
    for (let i = 0; i < 3; i++) heard.push((await watch.waitForNext()).data!.taskUpdated);
    await watch.close();
    expect(heard.map((u) => `${u.seq} ${u.task.status}`)).toEqual([
      '2 READY',
      '3 IN_PROGRESS',
      '4 COMPLETED',
    ]);
  });
});
