import { randomUUID } from 'node:crypto';
import { BaseCheckpointSaver, ERROR, MemorySaver, uuid6 } from '@langchain/langgraph-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointRefusedError,
  Neo4jCheckpointSaver,
} from '../src/agents/checkpoint/neo4j-saver.js';
import { UnitOfWork } from '../src/services/unit-of-work.js';
import {
  checkpointWith,
  countOnThread,
  removeTenantNodes,
  setRunStatus,
  taskWithRun,
} from './utils/checkpoint-fixtures.js';
import { eventually } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 13: LangGraph's checkpoint saver over Neo4j, with MemorySaver's semantics, writes only
// from the live attempt, and tenancy. Each test uses its own thread (a task id).

let server: TestServer;
let uow: UnitOfWork;
const otherTenant = `test-other-${randomUUID()}`;
beforeAll(async () => {
  server = await startTestServer();
  uow = server.services.uow;
});
afterAll(async () => {
  await removeTenantNodes(server.graph, otherTenant);
  await server.stop();
});

const cfg = (threadId: string, checkpointId?: string, ns = '') => ({
  configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId },
});

/** A RUNNING run in the test tenant and a saver writing for it. */
async function liveSaver(tenantId = server.tenantId) {
  const { taskId, runId } = await taskWithRun(server.graph, tenantId);
  return { taskId, runId, saver: new Neo4jCheckpointSaver({ uow, tenantId, runId }) };
}

/** How many checkpoints `list` finds on a thread. */
async function count(saver: BaseCheckpointSaver, threadId: string) {
  let n = 0;
  for await (const _ of saver.list({ configurable: { thread_id: threadId } })) n++;
  return n;
}

/** Puts a chain of checkpoints on a thread; returns their ids, oldest first. */
async function chain(saver: BaseCheckpointSaver, threadId: string, n: number, ns = '') {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const cp = checkpointWith(Array.from({ length: i + 1 }, (_, k) => `m${k}`));
    await saver.put(
      cfg(threadId, ids.at(-1), ns),
      cp,
      { source: 'loop', step: i, parents: {} },
      {},
    );
    ids.push(cp.id);
  }
  return ids;
}

// One contract suite, run against LangGraph's MemorySaver (the reference) and this saver.
const IMPLEMENTATIONS: [string, () => Promise<BaseCheckpointSaver>][] = [
  ['Neo4jCheckpointSaver', async () => (await liveSaver()).saver],
  ['MemorySaver (the reference)', async () => new MemorySaver()],
];

describe.each(IMPLEMENTATIONS)('%s: the checkpoint saver contract', (_name, make) => {
  it('returns the newest checkpoint of a thread, or the one named, with its parent config', async () => {
    const [saver, taskId] = [await make(), randomUUID()];
    const [first, second, third] = await chain(saver, taskId, 3);

    const newest = await saver.getTuple(cfg(taskId));
    expect(newest?.checkpoint.id).toBe(third);
    expect(newest?.config.configurable).toEqual({
      thread_id: taskId,
      checkpoint_ns: '',
      checkpoint_id: third,
    });
    expect(newest?.parentConfig?.configurable?.checkpoint_id).toBe(second);
    expect(newest?.checkpoint.channel_values).toEqual({ messages: ['m0', 'm1', 'm2'] });
    expect(newest?.metadata).toMatchObject({ source: 'loop', step: 2 });

    const named = await saver.getTuple(cfg(taskId, first));
    expect(named?.checkpoint.id).toBe(first);
    expect(named?.parentConfig).toBeUndefined();
    expect(await saver.getTuple(cfg(taskId, uuid6(-1)))).toBeUndefined();
    expect(await saver.getTuple(cfg(taskId, undefined, 'other-ns'))).toBeUndefined();
    expect(await saver.getTuple(cfg(randomUUID()))).toBeUndefined();
  });

  it('replaces a checkpoint put again under the same id', async () => {
    const [saver, taskId] = [await make(), randomUUID()];
    const cp = checkpointWith(['a']);
    await saver.put(cfg(taskId), cp, { source: 'loop', step: 0, parents: {} }, {});
    await saver.put(
      cfg(taskId),
      { ...cp, channel_values: { messages: ['b', 'c'] } },
      {
        source: 'loop',
        step: 1,
        parents: {},
      },
      {},
    );
    expect(await count(saver, taskId)).toBe(1);
    const got = await saver.getTuple(cfg(taskId));
    expect(got?.checkpoint.channel_values).toEqual({ messages: ['b', 'c'] });
    expect(got?.metadata?.step).toBe(1);
  });

  it('lists newest first and honours before, limit, filter and namespace', async () => {
    const [saver, taskId] = [await make(), randomUUID()];
    const ids = await chain(saver, taskId, 5);
    const sub = await chain(saver, taskId, 1, 'child:1');
    const list = async (config: object, options?: object) => {
      const out: string[] = [];
      for await (const t of saver.list(config, options)) out.push(t.checkpoint.id);
      return out;
    };
    const newestFirst = [...ids].reverse();
    expect(await list({ configurable: { thread_id: taskId, checkpoint_ns: '' } })).toEqual(
      newestFirst,
    );
    // No namespace given: every namespace of the thread, by namespace, newest first.
    expect(await list({ configurable: { thread_id: taskId } })).toEqual([...newestFirst, ...sub]);
    expect(await list(cfg(taskId), { limit: 2 })).toEqual(newestFirst.slice(0, 2));
    expect(await list(cfg(taskId), { before: cfg(taskId, ids[3]) })).toEqual(newestFirst.slice(2));
    expect(await list(cfg(taskId), { filter: { step: 1 } })).toEqual([ids[1]]);
    expect(await list(cfg(taskId), { filter: { source: 'loop' }, limit: 3 })).toEqual(
      newestFirst.slice(0, 3),
    );
    expect(await list(cfg(taskId), { limit: 0 })).toEqual([]);
    expect(await list(cfg(taskId, ids[2]))).toEqual([ids[2]]);
  });

  it('keeps a regular pending write already stored, replaces a special one, and returns them in writesSortKey order', async () => {
    const [saver, taskId] = [await make(), randomUUID()];
    const [id] = await chain(saver, taskId, 1);
    await saver.putWrites(
      cfg(taskId, id),
      [
        ['messages', 'first'],
        ['other', 1],
      ],
      'task-b',
      'p2',
    );
    await saver.putWrites(cfg(taskId, id), [['messages', 'again']], 'task-b', 'p2');
    await saver.putWrites(cfg(taskId, id), [['messages', 'early']], 'task-a', 'p1');
    await saver.putWrites(cfg(taskId, id), [[ERROR, { message: 'one' }]], 'task-c', 'p3');
    await saver.putWrites(cfg(taskId, id), [[ERROR, { message: 'two' }]], 'task-c', 'p3');

    const got = await saver.getTuple(cfg(taskId));
    expect(got?.pendingWrites).toEqual([
      ['task-a', 'messages', 'early'],
      ['task-b', 'messages', 'first'],
      ['task-b', 'other', 1],
      ['task-c', ERROR, { message: 'two' }],
    ]);
  });

  it('deletes a thread with its writes, and nothing of another thread', async () => {
    const [saver, taskId, otherId] = [await make(), randomUUID(), randomUUID()];
    const [id] = await chain(saver, taskId, 2);
    await saver.putWrites(cfg(taskId, id), [['x', 1]], 't');
    await chain(saver, otherId, 1);
    await saver.deleteThread(taskId);
    expect(await saver.getTuple(cfg(taskId))).toBeUndefined();
    expect(await saver.getTuple(cfg(taskId, id))).toBeUndefined();
    expect(await count(saver, taskId)).toBe(0);
    expect(await count(saver, otherId)).toBe(1);
  });
});

describe('Neo4jCheckpointSaver, writes only from the live attempt (and its own rules)', () => {
  it('a put racing the end of its run waits for the end and is refused (it never reads the run before the end commits)', async () => {
    const { taskId, runId, saver } = await liveSaver();
    let put: Promise<unknown> | undefined;
    // The run's end holds the run's lock until it commits, as the engine's endRun does; the
    // put starts meanwhile and must wait for that lock, then see the run ended.
    await server.graph.write(async (tx) => {
      await tx.run({
        cypher: "MATCH (r:Run {id: $runId}) SET r.status = 'ABANDONED'",
        params: { runId },
      });
      put = saver
        .put(cfg(taskId), checkpointWith(['late']), { source: 'loop', step: 0, parents: {} }, {})
        .catch((err: unknown) => err);
      await eventually("the put to wait for the run's lock", async () => {
        const rows = await server.graph.read((t) =>
          t.run<{ status: string }>({
            cypher: `SHOW TRANSACTIONS YIELD currentQuery, status
                     WHERE currentQuery CONTAINS 'checkpointWrites' AND currentQuery CONTAINS 'MERGE (c:Checkpoint'
                     RETURN status`,
          }),
        );
        return rows.some((r) => r.status.startsWith('Blocked'));
      });
    });
    expect(await put).toBeInstanceOf(CheckpointRefusedError);
    expect(await countOnThread(server.graph, server.tenantId, 'Checkpoint', taskId)).toBe(0);
  });

  it('refuses pending writes for a checkpoint that does not exist, writing nothing (MemorySaver keeps them)', async () => {
    const { taskId, saver } = await liveSaver();
    await expect(saver.putWrites(cfg(taskId, uuid6(-1)), [['x', 1]], 't')).rejects.toThrow(
      /has no checkpoint/,
    );
    expect(await countOnThread(server.graph, server.tenantId, 'CheckpointWrite', taskId)).toBe(0);
  });

  it('deletes the pending writes of a deleted thread', async () => {
    const { taskId, saver } = await liveSaver();
    const [id] = await chain(saver, taskId, 1);
    await saver.putWrites(cfg(taskId, id), [['x', 1]], 't');
    await saver.deleteThread(taskId);
    expect(await countOnThread(server.graph, server.tenantId, 'CheckpointWrite', taskId)).toBe(0);
    expect(await countOnThread(server.graph, server.tenantId, 'Checkpoint', taskId)).toBe(0);
  });

  it('refuses put and putWrites once the run has ended, and writes nothing', async () => {
    const { taskId, runId, saver } = await liveSaver();
    const [id] = await chain(saver, taskId, 1);
    await setRunStatus(server.graph, runId, 'ABANDONED');

    await expect(
      saver.put(
        cfg(taskId, id),
        checkpointWith(['late']),
        { source: 'loop', step: 1, parents: {} },
        {},
      ),
    ).rejects.toBeInstanceOf(CheckpointRefusedError);
    await expect(saver.putWrites(cfg(taskId, id), [['x', 1]], 't')).rejects.toThrow(
      /is not RUNNING/,
    );
    expect(await countOnThread(server.graph, server.tenantId, 'Checkpoint', taskId)).toBe(1);
    expect(await countOnThread(server.graph, server.tenantId, 'CheckpointWrite', taskId)).toBe(0);
    // Reading still works: a retry resumes from what the live attempt wrote.
    expect((await saver.getTuple(cfg(taskId)))?.checkpoint.id).toBe(id);
  });

  it('refuses every write from a read-only saver', async () => {
    const ro = new Neo4jCheckpointSaver({ uow, tenantId: server.tenantId, runId: null });
    const threadId = randomUUID();
    await expect(
      ro.put(cfg(threadId), checkpointWith(), { source: 'loop', step: 0, parents: {} }, {}),
    ).rejects.toThrow(/read-only/);
    expect(await countOnThread(server.graph, server.tenantId, 'Checkpoint', threadId)).toBe(0);
  });
});

describe('Neo4jCheckpointSaver, tenancy', () => {
  it("never reads, lists, writes to or deletes another tenant's checkpoints", async () => {
    const { taskId, saver } = await liveSaver();
    const [id] = await chain(saver, taskId, 2);
    const theirs = new Neo4jCheckpointSaver({ uow, tenantId: otherTenant, runId: null });

    expect(await theirs.getTuple(cfg(taskId))).toBeUndefined();
    expect(await theirs.getTuple(cfg(taskId, id))).toBeUndefined();
    const listed: unknown[] = [];
    for await (const t of theirs.list({ configurable: {} })) listed.push(t);
    expect(listed).toEqual([]);
    await theirs.deleteThread(taskId);
    expect(await countOnThread(server.graph, server.tenantId, 'Checkpoint', taskId)).toBe(2);

    // A saver for our run but in their tenant cannot write (the run is not theirs).
    const { runId } = await taskWithRun(server.graph, server.tenantId);
    const crossed = new Neo4jCheckpointSaver({ uow, tenantId: otherTenant, runId });
    await expect(
      crossed.put(cfg(taskId), checkpointWith(), { source: 'loop', step: 5, parents: {} }, {}),
    ).rejects.toBeInstanceOf(CheckpointRefusedError);

    // Their own thread of the same id is theirs alone.
    const own = await taskWithRun(server.graph, otherTenant);
    const theirWriter = new Neo4jCheckpointSaver({ uow, tenantId: otherTenant, runId: own.runId });
    await theirWriter.put(
      cfg(taskId),
      checkpointWith(['x']),
      { source: 'loop', step: 0, parents: {} },
      {},
    );
    expect((await saver.getTuple(cfg(taskId)))?.checkpoint.channel_values).toEqual({
      messages: ['m0', 'm1'],
    });
  });
});

describe('Run.checkpoints', () => {
  const query = `query ($id: ID!, $first: Int) { task(id: $id) { runs { id
    checkpoints(first: $first) { id checkpointId step source createdAt next messageCount bytes } } } }`;

  it("lists a run's checkpoints newest first with what they hold, and refuses a bad first", async () => {
    const created = await server.gql(
      `mutation { createTask(input: { title: "checkpointed" }) { id } }`,
    );
    const taskId = (created.data as { createTask: { id: string } }).createTask.id;
    const { runId } = await taskWithRun(server.graph, server.tenantId, { taskId });
    const saver = new Neo4jCheckpointSaver({ uow, tenantId: server.tenantId, runId });
    const ids = await chain(saver, taskId, 3);

    const res = await server.gql(query, { id: taskId, first: 2 });
    expect(res.errors).toBeUndefined();
    type Cp = { checkpointId: string; step: number; messageCount: number; bytes: number };
    const runs = (res.data as { task: { runs: { id: string; checkpoints: Cp[] }[] } }).task.runs;
    const checkpoints = runs.find((r) => r.id === runId)!.checkpoints;
    expect(checkpoints.map((c) => c.checkpointId)).toEqual([ids[2], ids[1]]);
    expect(checkpoints[0]).toMatchObject({ step: 2, source: 'loop', messageCount: 3, next: [] });
    expect(checkpoints[0]!.bytes).toBeGreaterThan(0);

    const all = await server.gql(query, { id: taskId });
    const listed = (all.data as { task: { runs: { id: string; checkpoints: Cp[] }[] } }).task.runs;
    expect(listed.find((r) => r.id === runId)!.checkpoints).toHaveLength(3);

    const bad = await server.gql(query, { id: taskId, first: 500 });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/first must be between 1 and 100, but got 500/);
  });
});
