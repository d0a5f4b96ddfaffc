import { expect } from 'vitest';
import { StepError, type Executor } from '../../src/engine/executor.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import { allFinished } from './engine.js';
import type { TestServer } from './server.js';

/** Helpers for the retryTask suites (retry*.int.test.ts). */

/** Fails the first attempt of each step named, for good; every other attempt succeeds. */
export function failingOnce(...keys: string[]): Executor {
  const failed = new Set<string>();
  return async ({ task }) => {
    const key = task.key ?? task.id;
    if (keys.includes(key) && !failed.has(key)) {
      failed.add(key);
      throw new StepError(`${key} broke`, false);
    }
    return { result: JSON.stringify({ step: key }) };
  };
}

export const retry = (server: TestServer, id: string) =>
  server.gql(`mutation($id: ID!) { retryTask(id: $id) { id status attempts error } }`, {
    id,
  } as never);

export const retried = async (server: TestServer, id: string) => {
  const res = await retry(server, id);
  expect(res.errors).toBeUndefined();
  return (res.data as { retryTask: { status: string; attempts: number; error: string | null } })
    .retryTask;
};

/** Whether the root has ended and every task of its workflow with it. */
export const ended = (rootId: string) => (tasks: { id: string; status: string }[]) =>
  ['COMPLETED', 'FAILED', 'CANCELLED'].includes(tasks.find((t) => t.id === rootId)!.status) &&
  allFinished(tasks as never);

/** The tenant's STATUS_CHANGED events, as [task id, status], heard until stop(). */
export function statusChanges(server: TestServer) {
  const heard: [string, string][] = [];
  const feed = server.pubsub.subscribe(TOPICS.taskUpdated, { tenantId: server.tenantId });
  const done = (async () => {
    for await (const e of feed) {
      const { task, change } = e as TaskUpdatedEvent;
      if (change === 'STATUS_CHANGED') heard.push([task.id, task.status]);
    }
  })();
  return {
    heard,
    stop: async () => {
      // In-process events reach subscribers a macrotask after their publish.
      await new Promise((r) => setImmediate(r));
      await feed.return?.();
      await done;
    },
  };
}
