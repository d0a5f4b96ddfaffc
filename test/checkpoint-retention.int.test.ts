import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Neo4jCheckpointSaver } from '../src/agents/checkpoint/neo4j-saver.js';
import { pruneCheckpoints } from '../src/agents/checkpoint/retention.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import type { UnitOfWork } from '../src/services/unit-of-work.js';
import {
  checkpointWith,
  countOnThread,
  setRunStatus,
  taskWithRun,
} from './utils/checkpoint-fixtures.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { untilBlocked } from './utils/blocked.js';
import { createFork, forkPointOf } from '../graph/fork.repository.js';

// Issue 13: checkpoints do not grow without bound (langgraphjs#1138). `put` keeps the newest
// CHECKPOINT_KEEP_PER_THREAD per thread and namespace; pruneCheckpoints deletes finished
// tasks' checkpoints past CHECKPOINT_RETENTION_HOURS; a fork's source is never deleted.

let server: TestServer;
let uow: UnitOfWork;
beforeAll(async () => {
  server = await startTestServer();
  uow = server.services.uow;
});
afterAll(() => server.stop());

const cfg = (threadId: string, checkpointId?: string, ns = '') => ({
  configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId },
});

/** Puts `n` checkpoints on the thread, each with one pending write; returns ids, oldest first. */
async function putMany(saver: Neo4jCheckpointSaver, threadId: string, n: number, ns = '') {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const cp = checkpointWith([`m${i}`]);
    await saver.put(
      cfg(threadId, ids.at(-1), ns),
      cp,
      { source: 'loop', step: i, parents: {} },
      {},
    );
    await saver.putWrites(cfg(threadId, cp.id, ns), [['messages', `w${i}`]], 'task');
    ids.push(cp.id);
  }
  return ids;
}

const threadIds = async (threadId: string, ns = '') => {
  const rows = await server.graph.read((tx) =>
    tx.run<{ id: string }>({
      cypher: `MATCH (c:Checkpoint {tenantId: $tenantId, threadId: $threadId, ns: $ns})
               RETURN c.checkpointId AS id ORDER BY id`,
      params: { tenantId: server.tenantId, threadId, ns },
    }),
  );
  return rows.map((r) => r.id);
};

/** Points a new run at a checkpoint with FORKED_FROM, as forkRun will. */
const forkFrom = (checkpointId: string) =>
  server.graph.write((tx) =>
    tx.run({
      cypher: `MATCH (c:Checkpoint {tenantId: $tenantId, checkpointId: $checkpointId})
               CREATE (:Run {id: randomUUID(), tenantId: $tenantId, status: 'RUNNING'})-[:FORKED_FROM]->(c)`,
      params: { tenantId: server.tenantId, checkpointId },
    }),
  );

/**
 * Runs `write` while a fork of `checkpointId` is being made (as forkRun makes it): the fork's
 * transaction holds the checkpoint's lock until `write` waits for it (a transaction whose
 * `name` parameter is `value`), then commits.
 */
async function whileForking(
  checkpointId: string,
  write: () => Promise<unknown>,
  blocked: { name: string; value: string | number },
) {
  const [source] = await server.graph.read((tx) =>
    tx.run<{ id: string; runId: string }>({
      cypher: `MATCH (r:Run)-[:CHECKPOINTED]->(c:Checkpoint {tenantId: $tenantId, checkpointId: $checkpointId})
               RETURN c.id AS id, r.id AS runId`,
      params: { tenantId: server.tenantId, checkpointId },
    }),
  );
  let done: Promise<unknown> | undefined;
  await server.graph.write(async (tx) => {
    const { id, runId } = source!;
    const point = await forkPointOf(tx, server.tenantId, runId, id);
    await createFork(tx, {
      ...{ tenantId: server.tenantId, id: randomUUID(), point: point!, runId },
      ...{ message: null, by: 'test admin' },
    });
    done = write();
    await untilBlocked(server.graph, 'the delete to wait for the fork', blocked);
  });
  return done;
}

/** Ends a checkpointed step: its run SUCCEEDED, its task COMPLETED. */
async function finish({ taskId, runId }: { taskId: string; runId: string }) {
  await setRunStatus(server.graph, runId, 'SUCCEEDED');
  await server.graph.write((tx) =>
    tx.run({
      cypher: `MATCH (t:Task {id: $id}) SET t.status = 'COMPLETED'`,
      params: { id: taskId },
    }),
  );
}

/** Makes a thread's checkpoints `hours` old. */
const age = (threadId: string, hours: number) =>
  server.graph.write((tx) =>
    tx.run({
      cypher: `MATCH (c:Checkpoint {tenantId: $tenantId, threadId: $threadId})
               SET c.createdAt = datetime() - duration({hours: $hours})`,
      params: { tenantId: server.tenantId, threadId, hours },
    }),
  );

describe('checkpoint retention per thread', () => {
  it('put keeps the newest CHECKPOINT_KEEP_PER_THREAD checkpoints of a thread and namespace, and their writes go with the rest', async () => {
    const { taskId, runId } = await taskWithRun(server.graph, server.tenantId);
    const saver = new Neo4jCheckpointSaver(
      { uow, tenantId: server.tenantId, runId },
      { keepPerThread: 3 },
    );
    const ids = await putMany(saver, taskId, 5);
    const child = await putMany(saver, taskId, 2, 'child:1');

    expect(await threadIds(taskId)).toEqual(ids.slice(2));
    expect(await threadIds(taskId, 'child:1')).toEqual(child);
    expect(await countOnThread(server.graph, server.tenantId, 'CheckpointWrite', taskId)).toBe(5);
    // The newest still resumes, with its own write.
    const newest = await saver.getTuple(cfg(taskId));
    expect(newest?.checkpoint.id).toBe(ids[4]);
    expect(newest?.pendingWrites).toEqual([['task', 'messages', 'w4']]);
  });

  it('put writes and prunes in one statement: one round trip, with the run locked for less', async () => {
    const { taskId, runId } = await taskWithRun(server.graph, server.tenantId);
    const saver = new Neo4jCheckpointSaver(
      { uow, tenantId: server.tenantId, runId },
      { keepPerThread: 2 },
    );
    const ids = await putMany(saver, taskId, 2);
    const sent: string[] = [];
    server.graph.onStatement = (q) => void sent.push(q.cypher);
    const cp = checkpointWith(['m2']);
    try {
      await saver.put(cfg(taskId, ids[1]), cp, { source: 'loop', step: 2, parents: {} }, {});
    } finally {
      server.graph.onStatement = undefined;
    }
    expect(sent).toHaveLength(1);
    expect(await threadIds(taskId)).toEqual([ids[1], cp.id]);
    expect(await countOnThread(server.graph, server.tenantId, 'CheckpointWrite', taskId)).toBe(1);
  });

  it('put never deletes a checkpoint a fork starts from', async () => {
    const { taskId, runId } = await taskWithRun(server.graph, server.tenantId);
    const saver = new Neo4jCheckpointSaver(
      { uow, tenantId: server.tenantId, runId },
      { keepPerThread: 2 },
    );
    const [source] = await putMany(saver, taskId, 1);
    await forkFrom(source!);
    const later = await putMany(saver, taskId, 3);
    expect(await threadIds(taskId)).toEqual([source, ...later.slice(1)]);
  });

  it('put keeps a checkpoint a fork starts from while the put waited for it', async () => {
    const { taskId, runId } = await taskWithRun(server.graph, server.tenantId);
    const saver = new Neo4jCheckpointSaver(
      { uow, tenantId: server.tenantId, runId },
      { keepPerThread: 2 },
    );
    const [source, second] = await putMany(saver, taskId, 2);
    const third = checkpointWith(['m2']);
    await whileForking(
      source!,
      () => saver.put(cfg(taskId, second, ''), third, { source: 'loop', step: 2, parents: {} }, {}),
      { name: 'runId', value: runId },
    );
    expect(await threadIds(taskId)).toEqual([source, second, third.id]);
  });
});

describe('pruneCheckpoints', () => {
  it('deletes old checkpoints of finished tasks in batches, and keeps recent ones, open tasks’ and fork sources', async () => {
    const finished = await taskWithRun(server.graph, server.tenantId);
    const open = await taskWithRun(server.graph, server.tenantId);
    const writer = (runId: string) =>
      new Neo4jCheckpointSaver({ uow, tenantId: server.tenantId, runId });
    const old = await putMany(writer(finished.runId), finished.taskId, 5);
    await age(finished.taskId, 200);
    await forkFrom(old[0]!);
    const recent = await putMany(writer(finished.runId), finished.taskId, 1);
    const openIds = await putMany(writer(open.runId), open.taskId, 2);
    await age(open.taskId, 200);
    await finish(finished);

    const deleted = await pruneCheckpoints(uow, {
      olderThanHours: 168,
      batch: 2,
      tenantIds: [server.tenantId],
    });
    expect(deleted).toBe(4);
    expect(await threadIds(finished.taskId)).toEqual([old[0], ...recent]);
    expect(
      await countOnThread(server.graph, server.tenantId, 'CheckpointWrite', finished.taskId),
    ).toBe(2);
    expect(await threadIds(open.taskId)).toEqual(openIds);

    // Nothing of another tenant is touched by a tenant-scoped prune.
    expect(
      await pruneCheckpoints(uow, { olderThanHours: 168, tenantIds: [`test-${randomUUID()}`] }),
    ).toBe(0);
    expect(await threadIds(open.taskId)).toEqual(openIds);
  });

  it('keeps a checkpoint a fork starts from while the prune waited for it', async () => {
    const finished = await taskWithRun(server.graph, server.tenantId);
    const saver = new Neo4jCheckpointSaver({
      uow,
      tenantId: server.tenantId,
      runId: finished.runId,
    });
    const [source] = await putMany(saver, finished.taskId, 1);
    await age(finished.taskId, 200);
    await finish(finished);
    // A batch size of its own tells this prune's transaction apart.
    const prune = () =>
      pruneCheckpoints(uow, { olderThanHours: 168, batch: 4_321, tenantIds: [server.tenantId] });
    expect(await whileForking(source!, prune, { name: 'batch', value: 4_321 })).toBe(0);
    expect(await threadIds(finished.taskId)).toEqual([source]);
  });
});

describe('checkpoint retention settings', () => {
  it('reads CHECKPOINT_KEEP_PER_THREAD and CHECKPOINT_RETENTION_HOURS, 20 and 168 by default, and names a bad value', () => {
    expect(loadConfig({}).checkpoints).toEqual({ keepPerThread: 20, retentionHours: 168 });
    expect(
      loadConfig({ CHECKPOINT_KEEP_PER_THREAD: '5', CHECKPOINT_RETENTION_HOURS: '24' }).checkpoints,
    ).toEqual({ keepPerThread: 5, retentionHours: 24 });
    expect(() => loadConfig({ CHECKPOINT_KEEP_PER_THREAD: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ CHECKPOINT_KEEP_PER_THREAD: '0' })).toThrow(
      /CHECKPOINT_KEEP_PER_THREAD must be a whole number of checkpoints, at least 1/,
    );
    expect(() => loadConfig({ CHECKPOINT_RETENTION_HOURS: 'soon' })).toThrow(
      /CHECKPOINT_RETENTION_HOURS must be a number of hours, but got "soon"/,
    );
  });
});
